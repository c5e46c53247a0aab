import { UsageError } from "../../errors.ts";
import { CatalogError, formatProblem } from "./problems.ts";
import type { CatalogSource } from "./source.ts";
import type { CatalogWorkload } from "./workload.ts";

export interface EntryCheck {
  name: string;
  workload?: CatalogWorkload;
  warnings: string[];
  /** Each problem on its own (file, line, field, fix); empty when the entry is valid. */
  problems: string[];
}

/** Loads each entry and reports, per entry, its problems and warnings (never throws for one). */
export function checkEntries(source: CatalogSource, names: string[]): EntryCheck[] {
  return names.map((name) => {
    try {
      const workload = source.load(name);
      return { name, workload, warnings: workload.entry.warnings, problems: [] };
    } catch (err) {
      if (err instanceof CatalogError)
        return { name, warnings: [], problems: err.problems.map(formatProblem) };
      if (err instanceof UsageError)
        return { name, warnings: [], problems: [err.message.replace(/^catalog entry "[^"]*": /, "")] };
      throw err;
    }
  });
}

/** `OK    x`, `WARN  x: …`, `FAIL  x: …` lines, as the Go original printed them. */
export function renderChecks(checks: EntryCheck[]): string {
  const lines: string[] = [];
  for (const c of checks) {
    for (const w of c.warnings) lines.push(`WARN  ${c.name}: ${w}`);
    for (const p of c.problems) lines.push(`FAIL  ${c.name}: ${p}`);
    if (c.problems.length === 0) lines.push(`OK    ${c.name}`);
  }
  return lines.length ? `${lines.join("\n")}\n` : "";
}

/** The one error line for failed entries, or undefined when all passed. */
export function checksError(checks: EntryCheck[]): UsageError | undefined {
  const failed = checks.filter((c) => c.problems.length);
  if (failed.length === 0) return undefined;
  const [only] = failed;
  if (failed.length === 1 && only)
    return new UsageError(`catalog entry "${only.name}": ${only.problems.join("; ")}`);
  return new UsageError(
    `${failed.length} of ${checks.length} catalog entries are invalid: ${failed.map((c) => c.name).join(", ")} (see the FAIL lines)`,
  );
}
