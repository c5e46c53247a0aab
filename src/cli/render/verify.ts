import { formatDuration } from "../../ops/verify/soak.ts";
import type { SoakReport, VerifyReport } from "../../ops/verify/verify.ts";
import { formatValue, type SignalUnit } from "../../workloads/signals.ts";
import { toTable } from "../output.ts";

/** The table of `virtwork verify`: one row per VM and signal. */
export function renderVerify(r: VerifyReport): string {
  const lines = [
    `Signals of ${r.runId ? `run ${r.runId}` : "every virtwork run"} in namespace ${r.namespace}, from Prometheus at ${r.prometheus.url}`,
    "",
    toTable(
      ["VM", "WORKLOAD", "ROLE", "SIGNAL", "MEASURED", "EXPECTED", ""],
      r.results.map((c) => [
        c.vm,
        c.workload,
        c.role || "-",
        c.signal,
        c.shown,
        c.expected,
        c.ok ? "✓" : "✗",
      ]),
    ).trimEnd(),
  ];
  for (const u of r.unchecked)
    lines.push(
      `${u.vm} (${u.workload}): no signals declared, not checked (add signals: to its workload.yaml)`,
    );
  const passed = r.results.filter((c) => c.ok).length;
  lines.push(
    "",
    `${passed}/${r.results.length} signals present${r.rounds > 1 ? ` after ${r.elapsedSeconds}s` : ""}`,
  );
  if (r.soak) lines.push("", renderSoak(r.soak).trimEnd());
  return `${lines.join("\n")}\n`;
}

/** --for / --since: one row per VM and signal over the window. */
export function renderSoak(s: SoakReport): string {
  const span = `${s.start.slice(0, 19)}Z → ${s.end.slice(0, 19)}Z`;
  const head = `Over ${span} (every ${formatDuration(s.stepSeconds)}; a VM fails past a ${formatDuration(s.maxGapSeconds)} gap)${s.complete ? "" : ", cut short by Ctrl-C"}:`;
  const table = toTable(
    ["VM", "SIGNAL", "COVERAGE", "LONGEST GAP", "AT", "MIN", "MEDIAN", "MAX", ""],
    s.results.map((c) => [
      c.vm,
      c.signal,
      `${Math.floor(c.coverage * 1000) / 10}%`,
      c.longestGapSeconds ? formatDuration(c.longestGapSeconds) : "-",
      c.longestGapAt ? `${c.longestGapAt.slice(11, 19)}Z` : "-",
      value(c.low, c.unit),
      value(c.median, c.unit),
      value(c.high, c.unit),
      c.ok ? "✓" : "✗",
    ]),
  ).trimEnd();
  const good = s.results.filter((c) => c.ok).length;
  return `${head}\n${table}\n\n${good}/${s.results.length} signals continuous\n`;
}

function value(v: number | undefined, unit: string): string {
  return v === undefined ? "-" : formatValue(v, unit as SignalUnit);
}

/** One `Error:` line naming every VM with a missing signal, or undefined when all are there. */
export function verifyProblem(r: VerifyReport): string | undefined {
  const missing = r.results.filter((c) => !c.ok);
  if (!missing.length) return r.soak ? soakProblem(r.soak) : undefined;
  const byVm = new Map<string, string[]>();
  for (const c of missing)
    byVm.set(c.vm, [...(byVm.get(c.vm) ?? []), `${c.signal} ${c.shown}, expected ${c.expected}`]);
  const list = [...byVm].map(([vm, what]) => `${vm} (${what.join("; ")})`).join(", ");
  return `Error: signal missing from ${byVm.size} VM${byVm.size === 1 ? "" : "s"}: ${list}\n`;
}

/** One `Error:` line naming each VM × signal whose longest gap was past --max-gap. */
function soakProblem(s: SoakReport): string | undefined {
  const bad = s.results.filter((c) => !c.ok);
  if (!bad.length) return undefined;
  const list = bad.map((c) => `${c.vm} ${c.signal} (${c.shown})`).join(", ");
  return `Error: ${bad.length} signal${bad.length === 1 ? "" : "s"} not continuous (gap over ${formatDuration(s.maxGapSeconds)}): ${list}\n`;
}
