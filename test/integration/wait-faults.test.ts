/**
 * Issue 20 acceptance: the wait survives what real clusters do to watches. The built CLI talks
 * to the local API server through a fault proxy (test/cluster/fault-proxy.ts) that answers
 * watches and lists with 429/500/503, cuts streams mid-wait, kills connections, ends watches
 * early (a short timeoutSeconds, a clean end after a few hundred ms), sends a line that is not an
 * event, adds latency, and (issue 32) stalls a watch: the stream stays open and sends nothing.
 * 25 runs (five namespaces side by side, five runs each, every fault kind in every namespace,
 * a stalled VMI watch in every run and every cleanup) must each end `ready` within
 * `--timeout 120` with exactly the planned objects, each stall detected (the verbose log's
 * "watch resumed" line) within 30 s, and `cleanup --wait` (which watches until the objects are
 * gone) must empty the namespace again.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { type FaultProxy, type ProxyRule, startFaultProxy } from "../cluster/fault-proxy.ts";
import { closeAll, newNamespace, startCluster } from "./harness.ts";
import { names, objectsIn, parseJson, virtwork } from "./ops-cli.ts";

after(closeAll);

/** Slow enough that every run waits through several watch requests. */
const DELAYS = { scheduled: 300, running: 1500, dataVolume: 600 };
const VMS = ["virtwork-cpu-0", "virtwork-disk-0", "virtwork-memory-0"];
/** Every run: its first forwarded VMI watch stays open and goes silent. */
const STALL: ProxyRule = {
  on: "watch",
  resource: "virtualmachineinstances",
  action: { type: "stall", afterMs: 0 },
  count: 1,
};
/** Every cleanup --wait: its first forwarded VM watch (the VMs go last, after their VMIs and pods). */
const CLEANUP_STALL: ProxyRule = { ...STALL, resource: "virtualmachines" };
/** The acceptance bound: a stalled watch costs at most this long. */
const STALL_DETECTED_MS = 30_000;

/**
 * Each stall, and how long until the verbose log said the silent watch was given up and
 * resumed (json log lines: time, msg "watch resumed", why "… sent nothing for …").
 */
function stallDetections(stderr: string, stalledAt: number[]): number[] {
  const resumes = stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { time: string; msg: string; why?: string; resource?: string })
    .filter((l) => l.msg === "watch resumed" && /sent nothing for/.test(l.why ?? ""))
    .map((l) => Date.parse(l.time));
  return stalledAt.map((at) => {
    const seen = resumes.find((t) => t >= at);
    return seen === undefined ? Number.POSITIVE_INFINITY : seen - at;
  });
}

const SCENARIOS: { name: string; rules: ProxyRule[] }[] = [
  {
    name: "429/500/503 on watch and list",
    rules: [
      { on: "watch", action: { type: "status", code: 429, retryAfterSeconds: 1 }, count: 2 },
      { on: "watch", action: { type: "status", code: 500 }, every: 3, count: 3 },
      { on: "watch", action: { type: "status", code: 503 }, every: 4, count: 2 },
      { on: "list", action: { type: "status", code: 503 }, count: 2 },
      { on: "list", action: { type: "status", code: 429, retryAfterSeconds: 1 }, every: 3, count: 2 },
      { on: "list", action: { type: "status", code: 500 }, every: 5, count: 1 },
    ],
  },
  {
    name: "streams cut mid-wait",
    rules: [
      { on: "watch", action: { type: "cut", afterMs: 400 } },
      { on: "list", action: { type: "status", code: 500 }, every: 4 },
    ],
  },
  {
    name: "connections killed",
    rules: [
      { on: "watch", action: { type: "kill" }, every: 2 },
      { on: "list", action: { type: "kill" }, every: 3 },
      { on: "read", action: { type: "kill" }, every: 3 },
    ],
  },
  {
    name: "watches closed early, and a line that is not an event",
    rules: [
      { on: "watch", action: { type: "timeout", seconds: 1 } },
      { on: "watch", action: { type: "end", afterMs: 300 }, every: 2 },
      { on: "watch", action: { type: "garbage", afterMs: 200 }, every: 3 },
    ],
  },
  {
    name: "added latency, and cuts",
    rules: [
      { on: "any", action: { type: "delay", ms: 250 } },
      { on: "watch", action: { type: "cut", afterMs: 900 }, every: 2 },
    ],
  },
];

interface Outcome {
  scenario: string;
  applied: number;
  watches: number;
  runMs: number;
  /** per stall (the run's and the cleanup's): ms until the log line that gave the silent watch up */
  detected: number[];
}

async function lane(index: number, runs: number, token: string, caFile: string, server: string) {
  const ns = await newNamespace({ prefix: `waitf${index}` });
  await ns.simulate({ delays: DELAYS });
  const proxy: FaultProxy = await startFaultProxy({ server, caFile });
  const kubeconfig = join(mkdtempSync(join(tmpdir(), "virtwork-proxy-")), "kubeconfig");
  writeFileSync(kubeconfig, proxy.kubeconfig(token, ns.name), { mode: 0o600 });
  const outcomes: Outcome[] = [];
  try {
    for (let r = 0; r < runs; r++) {
      const scenario = SCENARIOS[(index + r) % SCENARIOS.length] as (typeof SCENARIOS)[number];
      const label = `lane ${index} run ${r} (${scenario.name})`;
      proxy.set([STALL, ...scenario.rules]);
      const res = await virtwork(
        ["run", "-n", ns.name, "--workloads", "cpu,memory,disk", "-o", "json", "--timeout", "120", "-v"],
        { kubeconfig, timeoutMs: 180_000 },
      );
      const stats = proxy.stats();
      assert.equal(res.code, 0, `${label}: exit ${res.code}\n${res.stderr.slice(-3000)}`);
      const summary = parseJson<{ runId: string; outcome: string; vms: { name: string; phase: string }[] }>(
        res,
      );
      assert.equal(summary.outcome, "ready", label);
      // No VM reported twice, none missing.
      assert.deepEqual(summary.vms.map((v) => v.name).sort(), VMS, `${label}: summary VMs`);
      assert.ok(
        summary.vms.every((v) => v.phase === "Running"),
        `${label}: ${JSON.stringify(summary.vms)}`,
      );
      const applied = Object.values(stats.applied).reduce((a, b) => a + b, 0);
      assert.ok(
        applied > (stats.applied.stall ?? 0),
        `${label}: no fault was applied (${JSON.stringify(stats)})`,
      );
      const detected = stallDetections(res.stderr, stats.stalledAt);
      assert.ok(
        detected.every((ms) => ms <= STALL_DETECTED_MS),
        `${label}: stalls ${stats.stalledAt.length}, detected after ${detected.join(", ")} ms\n${res.stderr.slice(-2000)}`,
      );

      proxy.set([]);
      const all = await objectsIn(ns.name);
      assert.deepEqual(names(all.vms), VMS, `${label}: VMs`);
      assert.deepEqual(names(all.vmis), VMS, `${label}: VMIs`);
      assert.deepEqual(names(all.secrets), VMS.map((n) => `${n}-cloudinit`).sort(), `${label}: Secrets`);
      assert.equal(all.dataVolumes.size, 1, `${label}: DataVolumes ${names(all.dataVolumes)}`);

      // cleanup --wait watches until the objects are gone, under the same faults.
      proxy.set([CLEANUP_STALL, ...scenario.rules]);
      const clean = await virtwork(
        ["cleanup", "-n", ns.name, "--run-id", summary.runId, "--yes", "--wait", "--timeout", "120", "-v"],
        { kubeconfig, timeoutMs: 180_000 },
      );
      assert.equal(clean.code, 0, `${label}: cleanup exit ${clean.code}\n${clean.stderr.slice(-3000)}`);
      const cleanStats = proxy.stats();
      const cleanDetected = stallDetections(clean.stderr, cleanStats.stalledAt);
      assert.ok(
        cleanDetected.every((ms) => ms <= STALL_DETECTED_MS),
        `${label}: cleanup stalls ${cleanStats.stalledAt.length}, detected after ${cleanDetected.join(", ")} ms\n${clean.stderr.slice(-2000)}`,
      );
      outcomes.push({
        scenario: scenario.name,
        applied,
        watches: stats.requests.watch,
        runMs: res.ms,
        detected: [...detected, ...cleanDetected],
      });
      proxy.set([]);
      const left = await objectsIn(ns.name);
      for (const [kind, map] of Object.entries(left))
        assert.equal(map.size, 0, `${label}: after cleanup ${kind} ${names(map)}`);
    }
  } finally {
    await proxy.stop();
  }
  return outcomes;
}

test("25 runs through watch/list faults, cut and killed connections, early-closed and stalled watches and latency all end ready", async (t) => {
  const cluster = await startCluster();
  const token = cluster.kubeConfig("admin").getCurrentUser()?.token ?? "";
  assert.ok(token, "admin token");
  const lanes = await Promise.all(
    [0, 1, 2, 3, 4].map((l) => lane(l, 5, token, cluster.caFile, cluster.server)),
  );
  const all = lanes.flat();
  assert.equal(all.length, 25);
  for (const s of SCENARIOS) {
    const runs = all.filter((o) => o.scenario === s.name);
    t.diagnostic(
      `${s.name}: 5 runs ready; faults applied ${runs.map((o) => o.applied).join(", ")}; watch requests ${runs.map((o) => o.watches).join(", ")}; runs took ${runs.map((o) => `${(o.runMs / 1000).toFixed(1)}s`).join(", ")}; stalls detected after ${runs.flatMap((o) => o.detected.map((ms) => `${(ms / 1000).toFixed(1)}s`)).join(", ")}`,
    );
    assert.equal(runs.length, 5, s.name);
    // The stalls happened (a run whose VMIs were all Running at its first list needs no watch,
    // so not every run meets one; most must).
    const stalls = runs.reduce((n, o) => n + o.detected.length, 0);
    assert.ok(stalls >= 5, `${s.name}: only ${stalls} stalls in 5 runs and 5 cleanups`);
    // Faults hit the wait, not only the creates: each run needed more than one watch per kind.
    assert.ok(
      runs.every((o) => o.watches > 3),
      `${s.name}: watches ${runs.map((o) => o.watches)}`,
    );
  }
});
