/**
 * `{{key}}` placeholders in catalog unit files. A placeholder is `{{` + a name of letters,
 * digits, `-`, `_` or `.` (spaces inside the braces allowed) + `}}`; other brace text, such
 * as a Go template's `{{.ID}}`, is left alone.
 */
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9][A-Za-z0-9_.-]*)\s*\}\}/g;

export interface Placeholder {
  key: string;
  /** 1-based line in the file. */
  line: number;
  /** Written as `"{{key}}"`: one double-quoted word for systemd and for a shell. */
  quoted: boolean;
}

export function findPlaceholders(text: string): Placeholder[] {
  const found: Placeholder[] = [];
  for (const match of text.matchAll(PLACEHOLDER)) {
    const line = text.slice(0, match.index).split("\n").length;
    const quoted = text[match.index - 1] === '"' && text[match.index + match[0].length] === '"';
    found.push({ key: match[1] ?? "", line, quoted });
  }
  return found;
}

/**
 * Replaces every placeholder with its value. Values are literal text: a `%` becomes `%%`
 * so systemd does not read it as a specifier (`%h`, `%n`). Unknown keys are left verbatim;
 * the loader rejects them before this runs.
 */
export function substitute(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(PLACEHOLDER, (whole, key: string) => {
    const value = Object.hasOwn(values, key) ? values[key] : undefined;
    return value === undefined ? whole : value.replace(/%/g, "%%");
  });
}
