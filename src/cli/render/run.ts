import type { DeploySummary } from "../../ops/summary.ts";
import { counted as countOf } from "../../util/plural.ts";
import { toTable } from "../output.ts";

function seconds(ms: number | undefined): string {
  return ms === undefined ? "-" : `${(ms / 1000).toFixed(1)}s`;
}

/** More VMs than this and the summary lists only those that are not running (a screenful). */
export const COMPACT_AFTER = 20;

function vmTable(s: DeploySummary): string {
  const notRunning = s.vms.filter((v) => v.phase !== "Running");
  const compact = s.vms.length > COMPACT_AFTER;
  const shown = compact ? notRunning.slice(0, COMPACT_AFTER) : s.vms;
  const table = shown.length
    ? toTable(
        ["NAME", "WORKLOAD", "ROLE", "PHASE", "NODE", "IP", "RUNNING-AFTER"],
        shown.map((v) => [
          v.name,
          v.workload,
          v.role ?? "-",
          v.phase,
          v.node ?? "-",
          v.ip ?? "-",
          v.createdAt && v.runningAt ? seconds(v.runningAt.getTime() - v.createdAt.getTime()) : "-",
        ]),
      ).trimEnd()
    : "";
  if (!compact) return table;
  const hidden = s.vms.length - shown.length;
  const more = `${hidden} more VMs${notRunning.length ? "" : ", all Running"}; list every one with: virtwork status -n ${s.namespace}${s.ownerRunIds.length === 1 ? ` --run-id ${s.ownerRunIds[0]}` : ""}`;
  return table ? `${table}\n${more}` : more;
}

function counted(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([k, n]) => countOf(n, k))
    .join(", ");
}

export function renderSummary(s: DeploySummary): string {
  const workloads = toTable(
    ["WORKLOAD", "VMS", "READY", "FAILED"],
    s.workloads.map((w) => [w.name, String(w.vms), String(w.ready), String(w.failed)]),
  ).trimEnd();
  if (s.outcome === "checked") {
    // Nothing exists: say what would be created, and offer no cleanup.
    return `${[
      `Server dry run of run ${s.runId} in namespace ${s.namespace}: the cluster accepted every object; nothing was created.`,
      `Would create ${counted(s.created) || "nothing"}${Object.keys(s.existing).length ? `; already present: ${counted(s.existing)}` : ""}`,
      "",
      toTable(
        ["NAME", "WORKLOAD", "ROLE"],
        s.vms.map((v) => [v.name, v.workload, v.role ?? "-"]),
      ).trimEnd(),
      "",
      "Deploy it with the same flags without --dry-run.",
    ].join("\n")}\n`;
  }
  const earlier = s.ownerRunIds.filter((id) => id !== s.runId);
  const existing = counted(s.existing) + (earlier.length ? ` (of run ${earlier.join(", ")})` : "");
  const lines = [
    // A failure or timeout is printed once, on stderr; an interrupted run's stderr says what to clean up instead.
    `Run ${s.runId} in namespace ${s.namespace}: ${s.outcome}${s.outcome === "interrupted" && s.message ? ` (${s.message})` : ""}`,
    `Created ${counted(s.created) || "nothing"}${existing ? `; already present: ${existing}` : ""}`,
    "",
    vmTable(s),
    "",
    workloads,
  ];
  if (s.timings.createdToRunningP50Ms !== undefined) {
    lines.push(
      "",
      `Created → running: p50 ${seconds(s.timings.createdToRunningP50Ms)}, p95 ${seconds(s.timings.createdToRunningP95Ms)}`,
    );
  }
  if (s.timings.createdToReadyP50Ms !== undefined) {
    lines.push(
      `Created → ready: p50 ${seconds(s.timings.createdToReadyP50Ms)}, p95 ${seconds(s.timings.createdToReadyP95Ms)}`,
    );
  }
  lines.push("", ...removeHint(s));
  return `${lines.join("\n")}\n`;
}

/** The cleanup command per run id that owns objects of this run's plan (none: nothing to remove). */
function removeHint(s: DeploySummary): string[] {
  if (s.outcome === "checked") return [];
  if (!s.ownerRunIds.length) return ["Nothing to remove: this run created nothing."];
  if (s.ownerRunIds.length === 1 && s.ownerRunIds[0] === s.runId)
    return [`Remove it with: virtwork cleanup -n ${s.namespace} --run-id ${s.runId}${namespaceFlag(s)}`];
  return [
    `Its objects belong to ${s.ownerRunIds.length === 1 ? "run" : "runs"} ${s.ownerRunIds.join(", ")}; remove them with:`,
    ...s.ownerRunIds.map((id) => `  virtwork cleanup -n ${s.namespace} --run-id ${id}`),
  ];
}

/**
 * The run made the namespace: its cleanup may delete it too (cleanup keeps it anyway while
 * anything else lives there), or the run leaves an empty namespace behind.
 */
function namespaceFlag(s: DeploySummary): string {
  return s.namespaceCreated ? " --delete-namespace" : "";
}

/** What an interrupted run leaves, counted in the cluster by its run-id label. */
export function interruptedHint(s: DeploySummary): string {
  const counts = s.inCluster;
  const command = `virtwork cleanup -n ${s.namespace} --run-id ${s.runId} --yes${namespaceFlag(s)}`;
  const onlyNamespace = s.namespaceCreated
    ? ` The run created namespace ${s.namespace}; remove it with:\n  virtwork cleanup -n ${s.namespace} --yes --delete-namespace\n`
    : "\n";
  if (counts === undefined) {
    const known = s.objects.filter((o) => o.kind !== "Namespace").length;
    if (known === 0)
      return `Interrupted: nothing created as far as virtwork saw (the cluster could not be asked to count run ${s.runId}'s objects in namespace ${s.namespace}).${onlyNamespace}`;
    return `Interrupted: at least ${known} objects of run ${s.runId} exist in namespace ${s.namespace} (the cluster could not be asked). Remove them with:\n  ${command}\n`;
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (total === 0)
    return `Interrupted: nothing created; no object of run ${s.runId} exists in namespace ${s.namespace}.${onlyNamespace}`;
  const detail = Object.entries(counts)
    .map(([kind, n]) => countOf(n, kind))
    .join(", ");
  return `Interrupted: ${total} objects of run ${s.runId} exist in namespace ${s.namespace} (${detail}, counted in the cluster by label). Remove them with:\n  ${command}\n`;
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
      readyAt: v.readyAt?.toISOString(),
    })),
  };
}

/** What stderr says about a run that did not succeed, or undefined. */
export function runProblem(s: DeploySummary): string | undefined {
  if (s.outcome === "interrupted") return interruptedHint(s);
  if (s.outcome === "failed" || s.outcome === "timeout") return `Error: ${s.message}\n`;
  return undefined;
}
