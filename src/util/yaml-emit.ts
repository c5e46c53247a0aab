/**
 * A small YAML emitter for plain data (maps, lists, strings, numbers, booleans, null), used
 * for cloud-config documents and printed manifests. It is deliberately conservative so
 * that YAML 1.1 readers (PyYAML in cloud-init) and 1.2 readers (kubectl) agree:
 *  - a string is written plain only when it cannot be read as anything else (it starts
 *    with a letter, `_` or `/`, has no `:`, `#` or spaces, and is no YAML 1.1 boolean or
 *    null word); everything else is double-quoted (JSON escapes are valid YAML);
 *  - multi-line strings become literal blocks with the right chomping indicator.
 * It is also several times faster than a general-purpose library for this job, which
 * matters for start-up time.
 */
const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./@-]*$/;
// Some YAML 1.1 readers take "E0" or "e5" for (broken) floats.
const FLOAT_LIKE = /^[eE][-+]?\d+$/;
const YAML11_WORDS =
  /^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~)$/;
// Literal blocks cannot hold these faithfully: other control characters, or \r.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const NOT_LITERAL = /[\u0000-\u0008\u000b-\u001f\u007f\u0085\u2028\u2029\ufeff]/;

type Data = null | boolean | number | string | Data[] | { [key: string]: Data | undefined };

function scalar(value: null | boolean | number | string): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`cannot emit ${value} as YAML`);
    return String(value);
  }
  return PLAIN.test(value) && !YAML11_WORDS.test(value) && !FLOAT_LIKE.test(value)
    ? value
    : JSON.stringify(value);
}

function isLiteral(value: string): boolean {
  return value.includes("\n") && !NOT_LITERAL.test(value) && !/^\s*$/.test(value);
}

/** Header and body lines of a literal block holding `value`, indented by `indent`. */
function literal(value: string, indent: string): { header: string; body: string[] } {
  const trailing = /\n*$/.exec(value)?.[0].length ?? 0;
  const chomp = trailing === 0 ? "-" : trailing === 1 ? "" : "+";
  // An explicit indentation indicator when the first line starts with a space.
  const indicator = value.startsWith(" ") ? "2" : "";
  const text = trailing > 0 ? value.slice(0, value.length - 1) : value;
  return {
    header: `|${indicator}${chomp}`,
    body: text.split("\n").map((line) => (line === "" ? "" : `${indent}  ${line}`)),
  };
}

function isEmptyCollection(value: Data): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0)
  );
}

function collectionScalar(value: Data): string {
  return Array.isArray(value) ? "[]" : "{}";
}

/** Lines of `value` as the content after `prefix` (a key or a list dash) at `indent`. */
function emitEntry(prefix: string, value: Data | undefined, indent: string, out: string[]): void {
  if (value === undefined) return;
  if (typeof value !== "object" || value === null) {
    if (typeof value === "string" && isLiteral(value)) {
      const { header, body } = literal(value, indent);
      out.push(`${prefix} ${header}`, ...body);
    } else {
      out.push(`${prefix} ${scalar(value)}`);
    }
    return;
  }
  if (isEmptyCollection(value)) {
    out.push(`${prefix} ${collectionScalar(value)}`);
    return;
  }
  out.push(prefix);
  emitNode(value, `${indent}  `, out);
}

function emitNode(value: Data, indent: string, out: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item === "object" && item !== null && !isEmptyCollection(item)) {
        // First line of the nested node shares the dash: "- key: value" / "- - item".
        const nested: string[] = [];
        emitNode(item, `${indent}  `, nested);
        const first = nested[0] ?? "";
        out.push(`${indent}- ${first.slice(indent.length + 2)}`, ...nested.slice(1));
      } else {
        emitEntry(`${indent}-`, item as Data, indent, out);
      }
    }
    return;
  }
  if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) emitEntry(`${indent}${scalar(key)}:`, item, indent, out);
    return;
  }
  out.push(`${indent}${scalar(value)}`);
}

/** `value` as a YAML document (no `---`), ending with a newline. */
export function toYaml(value: unknown): string {
  const data = value as Data;
  if (typeof data !== "object" || data === null) return `${scalar(data)}\n`;
  if (isEmptyCollection(data)) return `${collectionScalar(data)}\n`;
  const out: string[] = [];
  emitNode(data, "", out);
  return `${out.join("\n")}\n`;
}
