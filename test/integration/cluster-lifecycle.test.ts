import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CLUSTER_SCRIPTS, type ClusterInfo, run, startCluster } from "./harness.ts";

/**
 * Runs a second, private cluster next to the shared one (its own VIRTWORK_CLUSTER_DIR), so
 * this shows both "two runs do not collide" and that cluster-down leaves nothing behind.
 */
describe("cluster-up / cluster-down", () => {
  let shared: ClusterInfo;
  const dir = mkdtempSync(join(tmpdir(), "virtwork-cluster-it-"));
  const env = { VIRTWORK_CLUSTER_DIR: dir };
  const up = () => run("bash", [join(CLUSTER_SCRIPTS, "cluster-up.sh")], { env, timeoutMs: 10 * 60_000 });
  const down = () => run("bash", [join(CLUSTER_SCRIPTS, "cluster-down.sh")], { env, timeoutMs: 120_000 });
  const pids = () =>
    ["etcd", "apiserver", "kcm"].map((n) => Number(readFileSync(join(dir, `${n}.pid`), "utf8").trim()));
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const portOpen = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });

  before(async () => {
    shared = await startCluster(); // the build cache is warm from here on
  });
  after(async () => {
    await down();
    rmSync(dir, { recursive: true, force: true });
  });

  let state: { apiPort: number; etcdPort: number; server: string };
  let started: number[] = [];

  // How fast a warm start is belongs to the benchmarks; here: nothing is rebuilt (a loaded
  // machine, or files running side by side, may take longer than a quiet one).
  test("a second cluster-up reuses the build cache, on its own ports", async () => {
    const res = await up();
    assert.equal(res.code, 0, res.stderr);
    assert.doesNotMatch(res.stderr, /building|generating/, "nothing may be rebuilt");
    assert.match(res.stderr, /build ready in \d+s/);
    state = JSON.parse(readFileSync(join(dir, "cluster.json"), "utf8"));
    assert.notEqual(state.apiPort, Number(new URL(shared.server).port));
    assert.match(res.stdout, new RegExp(`export KUBECONFIG=${dir}/kubeconfig`));
    started = pids();
    for (const pid of started) assert.ok(alive(pid), `pid ${pid} alive`);
    assert.ok(await portOpen(state.apiPort));
  });

  test("cluster-up again reuses the running cluster", async () => {
    const res = await up();
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /reusing the running cluster/);
    assert.deepEqual(pids(), started);
  });

  test("cluster-down leaves no process and no open port behind", async () => {
    const etcdData = readFileSync(join(dir, "etcd.datadir"), "utf8").trim();
    const cdiMetricsPort = Number(readFileSync(join(dir, "cdi/metrics.port"), "utf8"));
    assert.ok(await portOpen(cdiMetricsPort), "cdi-controller serves metrics on its own port");
    const res = await down();
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /stopped (\S+ )*apiserver etcd\n/);
    for (const name of ["kcm", "kcm-storage", "cdi-controller"]) {
      assert.match(res.stderr, new RegExp(`stopped .*\\b${name}\\b`));
    }
    assert.equal(await portOpen(cdiMetricsPort), false);
    for (const pid of started) assert.equal(alive(pid), false, `pid ${pid} still alive`);
    assert.equal(await portOpen(state.apiPort), false);
    assert.equal(await portOpen(state.etcdPort), false);
    assert.equal(existsSync(etcdData), false, "etcd data dir removed");
    assert.equal(existsSync(join(dir, "kubeconfig")), false);
    const again = await down();
    assert.equal(again.code, 0);
    // the shared cluster is untouched
    const ready = await run("curl", ["-fsS", "--cacert", shared.caFile, `${shared.server}/readyz`]);
    assert.equal(ready.stdout, "ok");
  });
});
