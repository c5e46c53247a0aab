import type { RunRow, VmRow } from "../../ops/status.ts";
import type { Column } from "../output.ts";

export function age(created: string, now: Date): string {
  const s = Math.max(0, Math.floor((now.getTime() - new Date(created).getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** The VMs, kubectl style: NAME first, the run id short (whole with -o wide). */
export function vmColumns(allNamespaces: boolean, now = new Date()): Column<VmRow>[] {
  return [
    ...(allNamespaces ? [{ header: "NAMESPACE", cell: (r: VmRow) => r.namespace }] : []),
    { header: "NAME", cell: (r) => r.name },
    { header: "WORKLOAD", cell: (r) => r.workload },
    { header: "ROLE", cell: (r) => r.role },
    { header: "PHASE", cell: (r) => r.phase },
    { header: "NODE", cell: (r) => r.node },
    { header: "IP", cell: (r) => r.ip },
    { header: "AGE", cell: (r) => age(r.createdAt, now) },
    { header: "RUN", cell: (r) => r.runId.slice(0, 8) },
    { header: "RUN-ID", cell: (r) => r.runId, wide: true },
  ];
}

/** One row per run (`status --runs`). */
export function runColumns(allNamespaces: boolean, now = new Date()): Column<RunRow>[] {
  return [
    ...(allNamespaces ? [{ header: "NAMESPACE", cell: (r: RunRow) => r.namespace }] : []),
    { header: "RUN-ID", cell: (r) => r.runId },
    { header: "VMS", cell: (r) => String(r.vms) },
    { header: "RUNNING", cell: (r) => String(r.running) },
    { header: "AGE", cell: (r) => age(r.createdAt, now) },
    { header: "WORKLOADS", cell: (r) => r.workloads.join(",") },
  ];
}
