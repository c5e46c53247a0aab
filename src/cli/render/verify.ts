import type { VerifyReport } from "../../ops/verify/verify.ts";
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
  return `${lines.join("\n")}\n`;
}

/** One `Error:` line naming every VM with a missing signal, or undefined when all are there. */
export function verifyProblem(r: VerifyReport): string | undefined {
  const missing = r.results.filter((c) => !c.ok);
  if (!missing.length) return undefined;
  const byVm = new Map<string, string[]>();
  for (const c of missing)
    byVm.set(c.vm, [...(byVm.get(c.vm) ?? []), `${c.signal} ${c.shown}, expected ${c.expected}`]);
  const list = [...byVm].map(([vm, what]) => `${vm} (${what.join("; ")})`).join(", ");
  return `Error: signal missing from ${byVm.size} VM${byVm.size === 1 ? "" : "s"}: ${list}\n`;
}
