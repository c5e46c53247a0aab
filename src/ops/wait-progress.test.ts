import assert from "node:assert/strict";
import { test } from "node:test";
import { timeoutMessage } from "./summary.ts";
import { type VmStatus, waitProgress } from "./wait.ts";

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const vms: VmStatus[] = [
  { name: "cpu-0", workload: "cpu", phase: "Running", createdAt: at(0), reached: true },
  { name: "db-0", workload: "database", phase: "Pending", createdAt: at(1), conditions: "Ready=False" },
  { name: "disk-0", workload: "disk", phase: "Scheduled", createdAt: at(2) },
  { name: "net-0", workload: "network", phase: "Pending", createdAt: at(3) },
];

test("the wait line: time against the deadline, counts by phase, the longest-waiting VMs", () => {
  assert.equal(
    waitProgress(vms, 45_400, 600),
    "45s of 600s · Running 1/4, Pending 2, Scheduled 1 · slowest: db-0 (Pending), disk-0 (Scheduled), net-0 (Pending)",
  );
  assert.equal(waitProgress(vms.slice(0, 1), 1000, 600), "1s of 600s · Running 1/1");
});

test("a timeout names the slowest VMs and what to raise", () => {
  const message = timeoutMessage(600, vms, { namespace: "perf", runIds: ["r1"] }, "running");
  assert.match(
    message,
    /^timed out after 600s: 3 of 4 VMs are not running, slowest: db-0 \(Pending: Ready=False\); disk-0/,
  );
  // --wait-for ready (the default): a VM that runs but is not ready yet counts as pending.
  const notReady = vms.map((v) => ({ ...v, reached: false }));
  assert.match(
    timeoutMessage(600, notReady, { namespace: "perf", runIds: ["r1"] }),
    /^timed out after 600s: 4 of 4 VMs are not ready, slowest: cpu-0 \(Running\); db-0/,
  );
  assert.match(
    message,
    /raise --timeout \(e\.g\. --timeout 1200s\), or lower --vm-count; see virtwork status -n perf --run-id r1$/,
  );
  // issue 31: a re-run over an earlier run's VMs points at the run that owns them, not at itself
  assert.match(
    timeoutMessage(600, vms, { namespace: "perf", runIds: ["r0"] }),
    /; see virtwork status -n perf --run-id r0$/,
  );
  // owned by several runs: the namespace's status lists them all
  assert.match(
    timeoutMessage(600, vms, { namespace: "perf", runIds: ["r0", "r1"] }),
    /; see virtwork status -n perf$/,
  );
});
