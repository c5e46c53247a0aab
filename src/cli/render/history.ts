import type { RunDetail, RunSummary } from "../../audit/auditor.ts";
import { toYaml } from "../../util/yaml-emit.ts";
import { type Column, toTable } from "../output.ts";

/** 42.5 → "42.5s", 192 → "3m12s", 7320 → "2h2m". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined) return "-";
  if (seconds < 60) return `${Number(seconds.toFixed(1))}s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** "2026-03-01 10:00:05Z": the stored UTC time, to the second. */
function formatTime(iso: string | undefined): string {
  if (!iso) return "-";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace("T", " ")}Z`;
}

/** Seconds from `from` to `to` as "+3.2s", for the VM timing columns. */
function after(from: string | undefined, to: string | undefined): string {
  if (!from || !to) return "-";
  return `+${formatDuration((Date.parse(to) - Date.parse(from)) / 1000)}`;
}

/** The runs of `virtwork history`; -o wide adds the workloads and the error. */
export const RUN_COLUMNS: Column<RunSummary>[] = [
  { header: "RUN ID", cell: (r) => r.runId },
  { header: "COMMAND", cell: (r) => r.command },
  { header: "STATUS", cell: (r) => r.status },
  { header: "NAMESPACE", cell: (r) => r.namespace },
  { header: "STARTED", cell: (r) => formatTime(r.startedAt) },
  { header: "DURATION", cell: (r) => formatDuration(r.durationSeconds) },
  { header: "VMS", cell: (r) => String(r.vmCount) },
  { header: "WORKLOADS", cell: (r) => r.workloads.join(","), wide: true },
  { header: "ERROR", cell: (r) => r.errorSummary ?? "", wide: true },
];

export function renderRun(run: RunDetail): string {
  const facts: [string, string | undefined][] = [
    ["Run", run.runId],
    ["Command", run.command],
    ["Status", run.errorSummary ? `${run.status}: ${run.errorSummary}` : run.status],
    ["Namespace", run.namespace],
    ["Context", run.clusterContext],
    ["Started", formatTime(run.startedAt)],
    [
      "Completed",
      run.completedAt ? `${formatTime(run.completedAt)} (${formatDuration(run.durationSeconds)})` : undefined,
    ],
    ["Workloads", run.workloads.join(", ") || undefined],
    [
      "SSH access",
      run.command.startsWith("cleanup") ? undefined : run.sshAuthConfigured ? "configured" : "none",
    ],
    ["Linked runs", run.linkedRunIds.join(", ") || undefined],
    [
      "Deleted",
      run.deleted
        ? Object.entries(run.deleted)
            .filter(([, n]) => n > 0)
            .map(([kind, n]) => `${n} ${kind}`)
            .join(", ") || "nothing"
        : undefined,
    ],
  ];
  const out = [
    facts
      .filter((f): f is [string, string] => f[1] !== undefined)
      .map(([k, v]) => `${`${k}:`.padEnd(13)}${v}`)
      .join("\n"),
  ];
  if (Object.keys(run.settings).length > 0) {
    out.push(
      `Settings:\n${toYaml(run.settings)
        .trimEnd()
        .split("\n")
        .map((l) => `  ${l}`)
        .join("\n")}`,
    );
  }
  if (run.vms.length > 0) {
    out.push(
      toTable(
        ["VM", "WORKLOAD", "ROLE", "PHASE", "STATUS", "CREATED", "SCHEDULED", "RUNNING", "READY", "ERROR"],
        run.vms.map((vm) => [
          vm.name,
          vm.workload,
          vm.role ?? "-",
          vm.phase ?? "-",
          vm.status,
          formatTime(vm.createdAt),
          after(vm.createdAt, vm.scheduledAt),
          after(vm.createdAt, vm.runningAt),
          after(vm.createdAt, vm.readyAt),
          vm.error ?? "",
        ]),
      ).trimEnd(),
    );
  }
  if (run.events.length > 0) {
    out.push(
      toTable(
        ["TIME", "EVENT", "MESSAGE"],
        run.events.map((e) => [
          formatTime(e.occurredAt),
          e.type,
          [e.message, e.error && e.error !== e.message ? `(${e.error})` : undefined]
            .filter(Boolean)
            .join(" "),
        ]),
      ).trimEnd(),
    );
  }
  return `${out.join("\n\n")}\n`;
}
