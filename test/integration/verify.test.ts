/**
 * Issue 18 acceptance with real parts: the simulator serves virt-handler-shaped metrics for
 * each Running VMI (test/cluster/simulator/metrics.ts), a real Prometheus (Debian's package,
 * started here on loopback, 1 s scrape interval) scrapes them, and the built CLI's
 * `run --verify` / `verify` ask that Prometheus. A healthy run passes; a run whose disk VM's
 * workload is silent (its root disk and vCPUs still tick) fails, naming that VM only.
 * Polls with generous deadlines: the machine is shared.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type MetricsEndpoint, startMetrics } from "../cluster/simulator/metrics.ts";
import { havePrometheus, type PrometheusProcess, startPrometheus } from "../monitoring/prometheus.ts";
import { closeAll, deleteNamespace, startCluster, startSimulator } from "./harness.ts";
import { ensureBuilt, FAST, freshNamespaceName, parseJson, virtwork } from "./ops-cli.ts";

after(closeAll);

interface Check {
  vm: string;
  workload: string;
  signal: string;
  measured?: number;
  ok: boolean;
  shown: string;
  expected: string;
}
interface Report {
  ok: boolean;
  runId?: string;
  namespace: string;
  prometheus: { url: string; source: string };
  results: Check[];
  unchecked: { vm: string }[];
}

interface SoakRow {
  vm: string;
  signal: string;
  ok: boolean;
  coverage: number;
  longestGapSeconds: number;
  longestGapAt?: string;
  shown: string;
}
interface Soak {
  mode: string;
  complete: boolean;
  results: SoakRow[];
}

const skip = havePrometheus() ? false : "prometheus is not installed (scripts/install-monitoring-tools.sh)";

describe("virtwork verify against a real Prometheus scraping the simulator", { skip }, () => {
  const healthy = freshNamespaceName("verify-ok");
  const broken = freshNamespaceName("verify-broken");
  let kubeconfig: string;
  const endpoints: MetricsEndpoint[] = [];
  let prom: PrometheusProcess;
  let healthyRun: string;

  before(async () => {
    const cluster = await startCluster();
    kubeconfig = cluster.adminKubeconfig;
    await ensureBuilt();
    for (const ns of [healthy, broken]) await startSimulator({ namespace: ns, delays: FAST });
    endpoints.push(await startMetrics({ kubeconfig: cluster.simulatorKubeconfig, namespace: healthy }));
    endpoints.push(
      await startMetrics({
        kubeconfig: cluster.simulatorKubeconfig,
        namespace: broken,
        silent: { "virtwork-disk-0": "workload" },
      }),
    );
    prom = await startPrometheus({
      targets: endpoints.map((e) => new URL(e.url).host),
      scrapeInterval: "1s",
    });
  });
  after(async () => {
    await Promise.all([prom?.stop(), ...endpoints.map((e) => e.stop())]);
    await Promise.all([healthy, broken].map((ns) => deleteNamespace(ns, { wait: false })));
  });

  test("run --workloads all --verify: every VM produces its workload's signals, exit 0", async () => {
    const res = await virtwork(
      [
        "run",
        "-n",
        healthy,
        "--workloads",
        "all",
        "--verify",
        "--prometheus-url",
        prom.url,
        "--timeout",
        "300",
        "-o",
        "json",
      ],
      { kubeconfig, timeoutMs: 400_000 },
    );
    assert.equal(res.code, 0, res.stderr);
    const out = parseJson<{ runId: string; outcome: string; verify: Report }>(res);
    healthyRun = out.runId;
    assert.equal(out.outcome, "ready");
    assert.equal(out.verify.ok, true);
    assert.equal(out.verify.runId, out.runId);
    assert.deepEqual(out.verify.unchecked, []);
    const vms = new Set(out.verify.results.map((r) => r.vm));
    assert.equal(vms.size, 11, "all 11 VMs of --workloads all are checked");
    for (const r of out.verify.results) {
      assert.equal(r.ok, true, `${r.vm} ${r.signal}: ${r.shown} (expected ${r.expected})`);
      assert.ok(typeof r.measured === "number", `${r.vm} ${r.signal} has a measured value`);
    }
    const signals = (vm: string) =>
      out.verify.results
        .filter((r) => r.vm === vm)
        .map((r) => r.signal)
        .sort();
    assert.deepEqual(signals("virtwork-cpu-0"), ["vcpu"]);
    assert.deepEqual(signals("virtwork-disk-0"), ["disk-write", "disk-write-iops"]);
    assert.deepEqual(signals("virtwork-network-client-0"), ["net-rx", "net-tx"]);
    assert.deepEqual(signals("virtwork-memory-0"), ["memory-resident"]);
  });

  test("verify -o table prints one ✓ row per VM and signal", async () => {
    const res = await virtwork(
      ["verify", "-n", healthy, "--run-id", healthyRun, "--prometheus-url", prom.url],
      {
        kubeconfig,
      },
    );
    assert.equal(res.code, 0, res.stderr);
    const rows = res.stdout.split("\n").filter((l) => l.startsWith("virtwork-"));
    assert.equal(rows.length, 17, res.stdout);
    for (const row of rows) assert.match(row, /✓$/, row);
    assert.match(res.stdout, /^VM\s+WORKLOAD\s+ROLE\s+SIGNAL\s+MEASURED\s+EXPECTED/m);
    assert.match(res.stdout, /17\/17 signals present/);
    process.stderr.write(`\n--- verify table (healthy run) ---\n${res.stdout}\n`);
  });

  test("a run whose disk VM is silent fails with exit 1 and names that VM only", async () => {
    const run = await virtwork(
      ["run", "-n", broken, "--workloads", "cpu,disk", "-o", "json", "--timeout", "300"],
      {
        kubeconfig,
      },
    );
    assert.equal(run.code, 0, run.stderr);
    const { runId } = parseJson<{ runId: string }>(run);
    // --wait: the cpu VM's signal arrives within seconds; the silent disk VM's never does
    const res = await virtwork(
      [
        "verify",
        "-n",
        broken,
        "--run-id",
        runId,
        "--prometheus-url",
        prom.url,
        "--wait",
        "--timeout",
        "45",
        "-o",
        "json",
      ],
      { kubeconfig, timeoutMs: 200_000 },
    );
    assert.equal(res.code, 1, res.stderr);
    assert.match(
      res.stderr,
      /^Error: signal missing from 1 VM: virtwork-disk-0 \(disk-write 0 B\/s, expected ≥ 1\.0 MiB\/s; disk-write-iops 0\.0 ops\/s/m,
    );
    assert.doesNotMatch(res.stderr, /virtwork-cpu-0/);
    const report = parseJson<Report>(res);
    assert.equal(report.ok, false);
    const byKey = new Map(report.results.map((r) => [`${r.vm}/${r.signal}`, r]));
    assert.equal(byKey.get("virtwork-cpu-0/vcpu")?.ok, true);
    // scraped, just flat: the counter is there at rate 0 (its root disk still writes)
    assert.equal(byKey.get("virtwork-disk-0/disk-write")?.measured, 0);
    assert.equal(byKey.get("virtwork-disk-0/disk-write")?.ok, false);
    const rootWrites = await fetch(
      `${prom.url}/api/v1/query?query=${encodeURIComponent(`sum(rate(kubevirt_vmi_storage_write_traffic_bytes_total{namespace="${broken}",name="virtwork-disk-0",drive="containerdisk"}[2m]))`)}`,
    ).then((r) => r.json() as Promise<{ data: { result: { value: [number, string] }[] } }>);
    assert.ok(Number(rootWrites.data.result[0]?.value[1]) > 0, "the silent VM's root disk still writes");
  });

  test("verify --since: the window that just ended, every VM × signal continuous, exit 0", async () => {
    const res = await virtwork(
      [
        "verify",
        "-n",
        healthy,
        "--run-id",
        healthyRun.slice(0, 8),
        "--prometheus-url",
        prom.url,
        "--since",
        "20s",
        "--step",
        "2s",
        "--max-gap",
        "8s",
        "-o",
        "json",
      ],
      { kubeconfig, timeoutMs: 120_000 },
    );
    assert.equal(res.code, 0, res.stderr + res.stdout);
    const report = parseJson<Report & { soak: Soak }>(res);
    assert.equal(report.runId, healthyRun, "the short id resolved");
    assert.equal(report.soak.mode, "since");
    assert.equal(report.soak.results.length, 17);
    for (const r of report.soak.results) {
      assert.equal(r.ok, true, `${r.vm} ${r.signal}: ${r.shown}`);
      assert.ok(r.coverage >= 0.9, `${r.vm} ${r.signal} coverage ${r.coverage}`);
    }
  });

  test("verify --for 3m: a VM silenced mid-window fails naming its signal and gap; every other VM × signal has ≥ 95 % coverage", async () => {
    const metrics = endpoints[0] as MetricsEndpoint;
    const silenced = "virtwork-cpu-0";
    const pending = virtwork(
      [
        "verify",
        "-n",
        healthy,
        "--run-id",
        healthyRun,
        "--prometheus-url",
        prom.url,
        "--for",
        "3m",
        "--step",
        "2s",
        "--max-gap",
        "8s",
        "-o",
        "json",
      ],
      { kubeconfig, timeoutMs: 400_000 },
    );
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await pause(60_000);
    const silencedAt = Date.now();
    metrics.setSilent(silenced, "guest");
    await pause(24_000);
    metrics.setSilent(silenced, undefined);
    const res = await pending;
    assert.equal(res.code, 1, res.stderr);
    assert.match(
      res.stderr,
      /^Error: 1 signal not continuous \(gap over 8s\): virtwork-cpu-0 vcpu \(\d+(\.\d)?%, longest gap \d+s at \S+Z\)/m,
    );
    const report = parseJson<Report & { soak: Soak }>(res);
    assert.equal(report.soak.complete, true);
    const bad = report.soak.results.filter((r) => !r.ok);
    assert.deepEqual(
      bad.map((r) => `${r.vm}/${r.signal}`),
      [`${silenced}/vcpu`],
    );
    const gap = bad[0] as SoakRow;
    // silent 24 s; the rate over 4 steps (8 s) needs a few seconds to fall and to rise again
    assert.ok(gap.longestGapSeconds >= 10 && gap.longestGapSeconds <= 34, `gap ${gap.longestGapSeconds}s`);
    const at = Date.parse(gap.longestGapAt ?? "");
    assert.ok(
      Math.abs(at - silencedAt) < 15_000,
      `gap began ${gap.longestGapAt}, silenced ${new Date(silencedAt).toISOString()}`,
    );
    assert.ok(gap.coverage < 0.95 && gap.coverage > 0.5, `coverage ${gap.coverage}`);
    for (const r of report.soak.results.filter((x) => x.ok))
      assert.ok(r.coverage >= 0.95, `${r.vm} ${r.signal}: coverage ${r.coverage}`);
    assert.equal(report.soak.results.length, 17);
  });

  test("an unreachable Prometheus is a clear error, exit 1", async () => {
    const res = await virtwork(["verify", "-n", healthy, "--prometheus-url", "http://127.0.0.1:9"], {
      kubeconfig,
    });
    assert.equal(res.code, 1);
    assert.match(
      res.stderr,
      /^Error: cannot reach Prometheus at http:\/\/127\.0\.0\.1:9 \(--prometheus-url\): .*ECONNREFUSED/m,
    );
  });
});
