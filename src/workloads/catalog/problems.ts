import { UsageError } from "../../errors.ts";

/** A field path inside workload.yaml, e.g. ["service", "ports", 0, "port"]. */
export type FieldPath = (string | number)[];

/** `service.ports[0].port`; the empty path is the document itself. */
export function formatPath(path: FieldPath): string {
  let out = "";
  for (const part of path) out += typeof part === "number" ? `[${part}]` : out === "" ? part : `.${part}`;
  return out;
}

/** A value quoted for an error line: JSON keeps newlines and control characters visible. */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** One thing wrong with a catalog entry: where (file, line, field) and what, with the fix. */
export interface Problem {
  file: string;
  line?: number;
  field?: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}`;
  const text = p.field ? `${where}: ${p.field}: ${p.message}` : `${where}: ${p.message}`;
  // The CLI promises one error line, whatever a YAML parser or a file name contains.
  return text.replace(/[\r\n\t]+/g, " ");
}

/** Every problem of an entry on one line: the CLI prints it as a single `Error: …`. */
export class CatalogError extends UsageError {
  readonly entry: string;
  readonly problems: Problem[];

  constructor(entry: string, problems: Problem[]) {
    super(`catalog entry "${entry}": ${problems.map(formatProblem).join("; ")}`);
    this.entry = entry;
    this.problems = problems;
  }
}
