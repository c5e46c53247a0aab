import { toYaml } from "../util/yaml-emit.ts";

/** Multi-document YAML (`---` between documents); `kubectl apply -f -` reads it as is. */
export function toYamlDocuments(objects: readonly unknown[]): string {
  return objects.map((o) => toYaml(o)).join("---\n");
}

/** A Kubernetes `List`, like `kubectl get -o json`. */
export function toJsonList(objects: readonly unknown[]): string {
  return `${JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }, null, 2)}\n`;
}

/**
 * The same text as toYamlDocuments / toJsonList, written object by object: peak memory stays at
 * the objects themselves, not the objects plus one string of the whole output (a 1000-VM dry run).
 */
export function writeYamlDocuments(objects: readonly unknown[], write: (text: string) => void): void {
  objects.forEach((o, i) => {
    write(i === 0 ? toYaml(o) : `---\n${toYaml(o)}`);
  });
}

export function writeJsonList(objects: readonly unknown[], write: (text: string) => void): void {
  if (objects.length === 0) {
    write(toJsonList(objects));
    return;
  }
  write('{\n  "apiVersion": "v1",\n  "kind": "List",\n  "items": [\n');
  objects.forEach((o, i) => {
    const item = JSON.stringify(o, null, 2).replace(/\n/g, "\n    ");
    write(`    ${item}${i < objects.length - 1 ? "," : ""}\n`);
  });
  write("  ]\n}\n");
}

/** A plain aligned table, like kubectl's default output. */
export function toTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("   ")
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join("\n")}\n`;
}

/** A column of a list: its header, its cell, and whether only `-o wide` shows it. */
export interface Column<T> {
  header: string;
  cell: (row: T) => string;
  wide?: boolean;
}

export type ListFormat = "yaml" | "json" | "wide" | "name";

/**
 * A list the kubectl way: a table (more columns with `-o wide`), one name per line (`-o name`),
 * or the data as JSON/YAML.
 */
export function renderList<T>(
  format: ListFormat | undefined,
  rows: readonly T[],
  columns: readonly Column<T>[],
  name: (row: T) => string,
  data: unknown = rows,
): string {
  if (format === "json") return `${JSON.stringify(data, null, 2)}\n`;
  if (format === "yaml") return toYaml(data);
  if (format === "name") return rows.map((r) => `${name(r)}\n`).join("");
  const shown = columns.filter((c) => format === "wide" || !c.wide);
  return toTable(
    shown.map((c) => c.header),
    rows.map((r) => shown.map((c) => c.cell(r) || "-")),
  );
}
