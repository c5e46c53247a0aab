import type { WorkloadInfo } from "../../workloads/describe.ts";
import { type Column, toTable } from "../output.ts";

const WIDTH = 100;

function kind(w: WorkloadInfo): string {
  return w.default ? "default" : w.source === "catalog" ? "catalog" : "opt-in";
}

/** The list that fits 100 columns: the description is cut to what is left of the line. */
export function workloadColumns(rows: readonly WorkloadInfo[]): Column<WorkloadInfo>[] {
  const columns: Column<WorkloadInfo>[] = [
    { header: "NAME", cell: (w) => w.name },
    { header: "SELECTED", cell: kind },
    { header: "ROLES", cell: (w) => w.roles.join(",") },
    { header: "PARAMS", cell: (w) => String(w.params.length) },
  ];
  const used = columns.reduce(
    (sum, c) => sum + Math.max(c.header.length, ...rows.map((r) => (c.cell(r) || "-").length)) + 3,
    0,
  );
  const room = Math.max(20, WIDTH - used);
  columns.push({
    header: "DESCRIPTION",
    cell: (w) => (w.description.length > room ? `${w.description.slice(0, room - 1)}…` : w.description),
  });
  columns.push({
    header: "PARAM-NAMES",
    cell: (w) => w.params.map((p) => `${p.name}=${p.default}`).join(","),
    wide: true,
  });
  return columns;
}

/** `virtwork workloads NAME`: one workload with every param. */
export function renderWorkload(w: WorkloadInfo): string {
  const facts = [
    `Name:        ${w.name}`,
    `Source:      ${w.source}`,
    `Selected:    ${kind(w)}${w.source === "catalog" ? ` (--from-catalog ${w.name})` : w.default ? "" : ` (--workloads ${w.name} or all)`}`,
    `Roles:       ${w.roles.join(", ") || "-"}`,
    `Description: ${w.description}`,
    ...(w.error ? [`Error:       ${w.error}`] : []),
  ];
  const params = w.params.length
    ? toTable(
        ["PARAM", "TYPE", "DEFAULT", "DESCRIPTION"],
        w.params.map((p) => [p.name, p.type, p.default || '""', p.description]),
      )
    : "No params.\n";
  return `${facts.join("\n")}\n\n${params}`;
}
