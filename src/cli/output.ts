import { toYaml } from "../util/yaml-emit.ts";

/** Multi-document YAML (`---` between documents); `kubectl apply -f -` reads it as is. */
export function toYamlDocuments(objects: readonly unknown[]): string {
  return objects.map((o) => toYaml(o)).join("---\n");
}

/** A Kubernetes `List`, like `kubectl get -o json`. */
export function toJsonList(objects: readonly unknown[]): string {
  return `${JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }, null, 2)}\n`;
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
