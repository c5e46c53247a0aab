/**
 * A child process for the multi-process audit tests. It records whole runs the way the
 * orchestration does, through the unguarded auditor, so any failed write exits non-zero.
 *
 *   node worker.ts TARGET runs N      N complete runs, then exit 0
 *   node worker.ts TARGET forever     runs until killed; prints "ready" after the first one
 *   node worker.ts TARGET sigint      starts a run, prints "ready", and on SIGINT records it
 *                                     as cancelled and exits 130 (what the ops layer does)
 */
import { randomUUID } from "node:crypto";
import type { Auditor } from "../../src/audit/auditor.ts";
import { openAuditor } from "../../src/audit/open.ts";
import { sampleRun } from "./helpers.ts";

const [target, mode, count] = process.argv.slice(2);
if (!target || !mode) throw new Error("usage: worker.ts TARGET runs N|forever|sigint");

const auditor = await openAuditor({ enabled: true, target, env: {} });

async function oneRun(a: Auditor, complete = true): Promise<string> {
  const start = sampleRun(randomUUID());
  const id = start.runId;
  await a.startRun(start);
  await a.recordResource(id, {
    kind: "Namespace",
    name: "virtwork",
    namespace: "virtwork",
    status: "skipped",
  });
  for (const vm of start.vms) {
    await a.recordResource(id, {
      kind: "Secret",
      name: `${vm.name}-cloudinit`,
      namespace: "virtwork",
      status: "created",
    });
    await a.recordResource(id, {
      kind: "VirtualMachine",
      name: vm.name,
      namespace: "virtwork",
      status: "created",
    });
  }
  await Promise.all(
    start.vms.map(async (vm) => {
      await a.updateVm(id, vm.name, { phase: "Scheduled", scheduledAt: new Date() });
      await a.updateVm(id, vm.name, { phase: "Running", status: "ready", runningAt: new Date() });
    }),
  );
  for (const w of start.workloads) await a.updateWorkload(id, w.name, "ready");
  if (complete) await a.completeRun(id, "success");
  return id;
}

if (mode === "runs") {
  for (let i = 0; i < Number(count ?? 1); i++) await oneRun(auditor);
  await auditor.close();
} else if (mode === "forever") {
  await oneRun(auditor);
  process.stdout.write("ready\n");
  for (;;) await oneRun(auditor);
} else if (mode === "sigint") {
  const id = await oneRun(auditor, false);
  process.once("SIGINT", async () => {
    await auditor.completeRun(id, "cancelled", "interrupted by signal (SIGINT)");
    await auditor.close();
    process.exit(130);
  });
  process.stdout.write(`ready ${id}\n`);
  setInterval(() => {}, 1000);
}
