import type { DeploySummary } from "../../ops/summary.ts";
import { toTable } from "../output.ts";

function plural(kind: string, n: number): string {
  return n === 1 ? kind : `${kind}s`;
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? "-" : `${(ms / 1000).toFixed(1)}s`;
}

export function renderSummary(s: DeploySummary): string {
  const created =
    Object.entries(s.created)
      .map(([k, n]) => `${n} ${plural(k, n)}`)
      .join(", ") || "nothing";
  const existing = Object.entries(s.existing)
    .map(([k, n]) => `${n} ${plural(k, n)}`)
    .join(", ");
  const lines = [
    `Run ${s.runId} in namespace ${s.namespace}: ${s.outcome}${s.message ? ` (${s.message})` : ""}`,
    `Created ${created}${existing ? `; already present: ${existing}` : ""}`,
    "",
    toTable(
      ["WORKLOAD", "VMS", "RUNNING", "FAILED"],
      s.workloads.map((w) => [w.name, String(w.vms), String(w.ready), String(w.failed)]),
    ).trimEnd(),
  ];
  if (s.timings.createdToRunningP50Ms !== undefined) {
    lines.push(
      "",
      `Created → running: p50 ${seconds(s.timings.createdToRunningP50Ms)}, p95 ${seconds(s.timings.createdToRunningP95Ms)}`,
    );
  }
  lines.push("", `Remove it with: virtwork cleanup -n ${s.namespace} --run-id ${s.runId}`);
  return `${lines.join("\n")}\n`;
}

/** The summary as JSON/YAML data: dates as ISO strings. */
export function summaryData(s: DeploySummary) {
  return {
    ...s,
    vms: s.vms.map((v) => ({
      ...v,
      createdAt: v.createdAt?.toISOString(),
      scheduledAt: v.scheduledAt?.toISOString(),
      runningAt: v.runningAt?.toISOString(),
    })),
  };
}

/** What stderr says about a run that did not succeed, or undefined. */
export function runProblem(s: DeploySummary): string | undefined {
  if (s.outcome === "interrupted") {
    const existing = s.objects.filter((o) => o.kind !== "Namespace").length;
    return `Interrupted: ${existing} objects of run ${s.runId} exist in namespace ${s.namespace}. Remove them with:\n  virtwork cleanup -n ${s.namespace} --run-id ${s.runId} --yes\n`;
  }
  if (s.outcome === "failed" || s.outcome === "timeout") return `Error: ${s.message}\n`;
  return undefined;
}
