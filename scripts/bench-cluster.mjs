// Cluster benchmark (npm run bench, when the local test cluster is up; run with
// `node --experimental-strip-types scripts/bench-cluster.mjs`).
//
// Deploys 200 VMs (the six default workloads × --vm-count 25) with the built CLI against the local
// test cluster and its VMI simulator, then cleans them up, and reports:
//  - wall time from `virtwork run` to every VM seen Running (the CLI returns then);
//  - API requests per VM, counted by the API server itself: virtwork runs as its own identity
//    (a client certificate for user virtwork-bench), and a FlowSchema for that user makes
//    `apiserver_flowcontrol_dispatched_requests_total{flow_schema="virtwork-bench"}` count exactly
//    its requests (the simulator's and everyone else's land in other flow schemas);
//  - readiness-detection lag, from the moment a VM reached Running to virtwork's own observation
//    of it. "Reached Running": the simulator (its own process) logs, with millisecond precision,
//    when it sent the Running status to the API server — nobody can see Running earlier. "Observed":
//    the moment this process received virtwork's `vm_running` line (-v, stderr is a pipe and is
//    written synchronously) and the moment virtwork's process exited. Reported: per VM (the VMs
//    that went Running while virtwork waited), and for the last VM (all Running → virtwork saw them
//    all / exited). A lag below 0 or a missing input is an invalid measurement: the benchmark says
//    why and exits 1. An idle watch in this process is printed next to it as a cross-check;
//  - cleanup wall time and request count, at 200 VMs and at 24 VMs (it should depend on the
//    object kinds, not on the VM count).
// Each goal line says its inputs and "met" or "NOT met"; BENCH_STRICT=1 makes a NOT met exit 3.
// The benchmark's namespaces (vwbench-*) have a simulator of their own; it refuses to run while a
// sandbox simulator (make sandbox) watches all namespaces of the same cluster. BENCH_SKEW_MS=N
// shifts the simulator's times by N ms (a self-test: N > the lag must make it exit 1).
// BENCH_DETAILS=FILE writes every per-VM input of the lag to FILE.<count>.json.
import { execFileSync, spawn } from "node:child_process";
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { deleteNamespace, rawRequest, startCluster } from "../test/integration/harness.ts";
import { detectionLag } from "./bench-lag.mjs";

const REPO = new URL("..", import.meta.url).pathname;
const USER = "virtwork-bench";
const VM_COUNT_PER_WORKLOAD = Number(process.env.BENCH_VM_COUNT ?? 25); // × 8 VMs per count = 200
const SKEW_MS = Number(process.env.BENCH_SKEW_MS ?? 0);

/** Sandbox simulators (main.ts without --namespace) of this cluster: they would act on our VMs too. */
function sandboxSimulators(simKubeconfig) {
  const mine = realpathSync(simKubeconfig);
  const found = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (!argv.some((a) => a.endsWith("test/cluster/simulator/main.ts"))) continue;
      if (argv.includes("--namespace")) continue;
      const i = argv.indexOf("--kubeconfig");
      const kc = resolve(
        readlinkSync(`/proc/${pid}/cwd`),
        i >= 0 ? argv[i + 1] : ".cluster/simulator.kubeconfig",
      );
      if (realpathSync(kc) === mine) found.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

const cluster = await startCluster();
const sandboxes = sandboxSimulators(cluster.simulatorKubeconfig);
if (sandboxes.length) {
  console.error(
    `cluster benchmark refused: a sandbox simulator (pid ${sandboxes.join(", ")}) watches every namespace of this cluster and would act on the benchmark's VMs; stop it (Ctrl-C in make sandbox) and run again`,
  );
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), "virtwork-bench-cluster-"));
const admin = cluster.kubeConfig("admin");
const core = admin.makeApiClient(k8s.CoreV1Api);

// --- an identity of its own, for the API server's per-flow request counter -------------------
const caKey = join(cluster.dir, "pki/ca.key");
const key = join(work, "bench.key");
const csr = join(work, "bench.csr");
const crt = join(work, "bench.crt");
const openssl = (...args) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
openssl("genrsa", "-out", key, "2048");
openssl("req", "-new", "-key", key, "-subj", `/CN=${USER}/O=virtwork:bench`, "-out", csr);
openssl(
  "x509",
  "-req",
  "-in",
  csr,
  "-CA",
  cluster.caFile,
  "-CAkey",
  caKey,
  "-CAcreateserial",
  "-CAserial",
  join(work, "ca.srl"),
  "-days",
  "1",
  "-out",
  crt,
);
const b64 = (f) => readFileSync(f).toString("base64");

const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
const flow = admin.makeApiClient(k8s.FlowcontrolApiserverV1Api);
const ignore404 = (err) => {
  if (!(err instanceof k8s.ApiException && err.code === 404)) throw err;
};
async function teardownIdentity() {
  await rbac.deleteClusterRoleBinding({ name: USER }).catch(ignore404);
  await flow.deleteFlowSchema({ name: USER }).catch(ignore404);
}
await teardownIdentity();
await rbac.createClusterRoleBinding({
  body: {
    metadata: { name: USER },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: USER }],
  },
});
await flow.createFlowSchema({
  body: {
    metadata: { name: USER },
    spec: {
      matchingPrecedence: 100,
      // exempt: counted, never queued, so the numbers are not shaped by APF
      priorityLevelConfiguration: { name: "exempt" },
      rules: [
        {
          subjects: [{ kind: "User", user: { name: USER } }],
          resourceRules: [
            { verbs: ["*"], apiGroups: ["*"], resources: ["*"], namespaces: ["*"], clusterScope: true },
          ],
          nonResourceRules: [{ verbs: ["*"], nonResourceURLs: ["*"] }],
        },
      ],
    },
  },
});

async function dispatched() {
  const res = await rawRequest("GET", "/metrics");
  const line = res.body
    .split("\n")
    .find((l) => l.startsWith(`apiserver_flowcontrol_dispatched_requests_total{flow_schema="${USER}"`));
  return line ? Number(line.split(" ").pop()) : 0;
}

function kubeconfigFor(namespace) {
  const file = join(work, `${namespace}.kubeconfig`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        { name: "c", cluster: { server: cluster.server, "certificate-authority-data": b64(cluster.caFile) } },
      ],
      users: [{ name: USER, user: { "client-certificate-data": b64(crt), "client-key-data": b64(key) } }],
      contexts: [{ name: "bench", context: { cluster: "c", user: USER, namespace } }],
      "current-context": "bench",
    }),
    { mode: 0o600 },
  );
  return file;
}

/** Runs the built CLI; every stderr line with the moment it arrived here, and the exit moment. */
function virtwork(args, kubeconfig) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VIRTWORK_")));
  return new Promise((resolveRun) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(REPO, "bin/virtwork"), ...args], {
      env: { ...env, HOME: work, KUBECONFIG: kubeconfig, VIRTWORK_AUDIT: "false" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let partial = "";
    const lines = [];
    let exitAt;
    child.stdout.on("data", (c) => {
      stdout += c;
    });
    child.stderr.on("data", (c) => {
      const at = Date.now();
      stderr += c;
      partial += c;
      for (let nl = partial.indexOf("\n"); nl >= 0; nl = partial.indexOf("\n")) {
        lines.push({ at, line: partial.slice(0, nl) });
        partial = partial.slice(nl + 1);
      }
    });
    child.on("exit", () => {
      exitAt = Date.now();
    });
    child.on("close", (code) =>
      resolveRun({ code, stdout, stderr, lines, exitAt: exitAt ?? Date.now(), ms: performance.now() - t0 }),
    );
  });
}

/**
 * The simulator in a process of its own (test/cluster/simulator/main.ts), so its Running times
 * (the log line it writes right after the VMI's status patch returned) are not delayed by this
 * process's work; resolves once it watches.
 */
async function simulator(namespace, simRunning) {
  const child = spawn(
    process.execPath,
    [
      "--experimental-strip-types",
      join(REPO, "test/cluster/simulator/main.ts"),
      "--kubeconfig",
      cluster.simulatorKubeconfig,
      "--namespace",
      namespace,
      "--delay-ms",
      "100",
      "--dv-delay-ms",
      "200",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let buffered = "";
  await new Promise((resolve, reject) => {
    child.on("exit", (code) => reject(new Error(`simulator exited ${code}`)));
    child.stderr.on("data", (c) => {
      buffered += c;
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.includes("simulator: watching")) resolve();
        const hit = /^(\S+) simulator: VirtualMachineInstance \S+\/(\S+) → Running \(sent (\S+)\)/.exec(line);
        if (hit)
          simRunning.set(hit[2], { sent: Date.parse(hit[3]) + SKEW_MS, done: Date.parse(hit[1]) + SKEW_MS });
      }
    });
  });
  child.removeAllListeners("exit");
  return {
    stop: () =>
      new Promise((resolve) => {
        child.on("exit", resolve);
        child.kill("SIGTERM");
      }),
  };
}

/** One deploy + cleanup of `count` VMs per workload; returns the measurements. */
async function round(count) {
  const name = `vwbench-${Math.random().toString(16).slice(2, 10)}`;
  await core.createNamespace({ body: { metadata: { name, labels: { "virtwork.io/test": "true" } } } });
  const ns = { name };
  const simRunning = new Map();
  const sim = await simulator(name, simRunning);
  // A cross-check, printed next to the lag: a plain watch in this process, stamped on arrival.
  const observed = new Map();
  // client-node's Watch gives up after 30 s without data: short watches, resumed from the last
  // resourceVersion, so this observer misses nothing.
  const watcher = new k8s.Watch(admin);
  let watchVersion;
  let current;
  let watching = true;
  const follow = async () => {
    while (watching) {
      const ended = new Promise((resolveWatch) => {
        watcher
          .watch(
            `/apis/kubevirt.io/v1/namespaces/${name}/virtualmachineinstances`,
            {
              timeoutSeconds: 20,
              allowWatchBookmarks: true,
              ...(watchVersion ? { resourceVersion: watchVersion } : {}),
            },
            (_type, vmi) => {
              if (vmi?.metadata?.resourceVersion) watchVersion = vmi.metadata.resourceVersion;
              if (vmi?.status?.phase === "Running" && !observed.has(vmi.metadata.name))
                observed.set(vmi.metadata.name, Date.now());
            },
            () => resolveWatch(),
          )
          .then((req) => {
            current = req;
          }, resolveWatch);
      });
      await ended;
    }
  };
  const following = follow();
  const watch = {
    abort: () => {
      watching = false;
      current?.abort();
    },
  };
  try {
    const kubeconfig = kubeconfigFor(ns.name);
    const before = await dispatched();
    const run = await virtwork(
      ["run", "-n", ns.name, "--vm-count", String(count), "-o", "json", "-v", "--timeout", "900"],
      kubeconfig,
    );
    if (run.code !== 0) throw new Error(`virtwork run exited ${run.code}:\n${run.stderr.slice(-3000)}`);
    const afterRun = await dispatched();
    const summary = JSON.parse(run.stdout);
    const vms = summary.vms.length;

    // virtwork's own observations, stamped by this process as its lines arrived.
    const seen = new Map();
    let waitStart = Number.NaN;
    for (const { at, line } of run.lines) {
      if (!line.startsWith("{")) continue;
      let event;
      try {
        event = JSON.parse(line);
      } catch {
        continue;
      }
      if (event.msg === "waiting for VMs to be running" && Number.isNaN(waitStart)) waitStart = at;
      if (event.msg === "vm_running" && event.name && !seen.has(event.name)) seen.set(event.name, at);
    }
    const names = summary.vms.map((v) => v.name);
    if (process.env.BENCH_DETAILS) {
      // Every input of the lag, per VM: for a look at where the time goes.
      const cliTime = new Map();
      for (const { line } of run.lines) {
        if (!line.includes('"msg":"vm_running"')) continue;
        const e = JSON.parse(line);
        cliTime.set(e.name, { logged: Date.parse(e.time), at: Date.parse(e.at) });
      }
      const rows = names.map((n) => ({
        vm: n,
        simSent: simRunning.get(n)?.sent,
        simDone: simRunning.get(n)?.done,
        benchWatch: observed.get(n),
        cliLogged: cliTime.get(n)?.logged,
        cliAt: cliTime.get(n)?.at,
        arrived: seen.get(n),
      }));
      writeFileSync(
        `${process.env.BENCH_DETAILS}.${count}.json`,
        JSON.stringify({ waitStart, exitAt: run.exitAt, rows }, null, 1),
      );
    }
    const lag = detectionLag({
      vms: names,
      running: new Map([...simRunning].map(([k, v]) => [k, v.sent])),
      seen,
      exitAt: run.exitAt,
      waitStart,
      firstSeen: new Map(
        names.map((n) => [
          n,
          Math.min(simRunning.get(n)?.done ?? Number.NaN, observed.get(n) ?? Number.POSITIVE_INFINITY),
        ]),
      ),
    });
    const watchLast = names.every((n) => observed.has(n))
      ? Math.max(...names.map((n) => observed.get(n)))
      : Number.NaN;
    const simDoneLast = Math.max(...names.map((n) => simRunning.get(n)?.done ?? Number.NaN));

    const clean = await virtwork(["cleanup", "-n", ns.name, "--yes", "--wait"], kubeconfig);
    if (clean.code !== 0)
      throw new Error(`virtwork cleanup exited ${clean.code}:\n${clean.stderr.slice(-3000)}`);
    const afterClean = await dispatched();
    return {
      vms,
      objects: Object.values(summary.created).reduce((a, b) => a + b, 0),
      runMs: run.ms,
      runRequests: afterRun - before,
      lag,
      watchLast,
      simDoneLast,
      cleanMs: clean.ms,
      cleanRequests: afterClean - afterRun,
    };
  } finally {
    watch.abort();
    await Promise.race([following, new Promise((r) => setTimeout(r, 5000))]);
    await sim.stop();
    await deleteNamespace(name, { wait: false });
  }
}

/**
 * The creation phase alone (`run --no-wait`, 200 VMs) at the default settings and with the
 * client-side limit out of the way (a bare client), alternating, median of each. Creation only:
 * no simulator, the namespace is dropped afterwards.
 */
const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

async function createPhase(extra) {
  const name = `vwcreate-${Math.random().toString(16).slice(2, 10)}`;
  await core.createNamespace({ body: { metadata: { name, labels: { "virtwork.io/test": "true" } } } });
  try {
    const run = await virtwork(
      ["run", "-n", name, "--vm-count", String(VM_COUNT_PER_WORKLOAD), "--no-wait", "-o", "json", ...extra],
      kubeconfigFor(name),
    );
    if (run.code !== 0)
      throw new Error(`virtwork run --no-wait exited ${run.code}:\n${run.stderr.slice(-3000)}`);
    return run.ms;
  } finally {
    await deleteNamespace(name, { wait: false });
  }
}

const iso = (ms) => (Number.isFinite(ms) ? new Date(ms).toISOString().slice(11, 23) : "—");
let invalid = false;
let notMet = 0;
/** A goal line: its inputs, then met / NOT met. */
function verdict(label, value, inputs, ok, goal) {
  if (!ok) notMet++;
  console.log(
    `  ${label.padEnd(38)}${value}   goal ${goal} ${ok ? "(met)" : "(NOT met)"}\n      inputs: ${inputs}`,
  );
}

try {
  const unlimited = ["--qps", "10000", "--burst", "10000"];
  const defaults = [];
  const bare = [];
  for (let i = 0; i < 3; i++) {
    bare.push(await createPhase(unlimited));
    defaults.push(await createPhase([]));
  }
  const big = await round(VM_COUNT_PER_WORKLOAD);
  const small = await round(3);
  const perVm = big.runRequests / big.vms;
  const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
  console.log(
    `\ncluster benchmark: ${big.vms} VMs (${big.objects} objects) against the local test cluster + simulator`,
  );
  const createRatio = median(defaults) / median(bare);
  verdict(
    `create ${big.vms} VMs, defaults vs bare`,
    `${createRatio.toFixed(2)}×`,
    `run --no-wait median of 3: default settings ${fmt(median(defaults))} (${defaults.map(fmt).join(", ")}), --qps/--burst 10000 (no client-side limit) ${fmt(median(bare))} (${bare.map(fmt).join(", ")}); 429/Retry-After still slow every caller down`,
    createRatio <= 1.5,
    "≤ 1.5×",
  );
  console.log(`  deploy + all Running (wall)           ${fmt(big.runMs)}`);
  verdict(
    "API requests, create + wait",
    `${perVm.toFixed(2)} per VM`,
    `${big.runRequests} requests by user ${USER} (apiserver_flowcontrol_dispatched_requests_total) / ${big.vms} VMs`,
    perVm <= 2.1,
    "≤ 2.1",
  );
  for (const [r, which] of [
    [big, "big"],
    [small, "small"],
  ]) {
    if (!r.lag.valid) {
      invalid = true;
      console.error(
        `  detection lag (${which} round, ${r.vms} VMs): INVALID MEASUREMENT: ${r.lag.problems.join("; ")}`,
      );
    }
  }
  const l = big.lag;
  if (l.valid) {
    verdict(
      "detection lag per VM (Running → seen)",
      `median ${l.median} ms, p95 ${l.p95} ms, max ${l.max} ms over ${l.lags.length} VMs`,
      `per VM: simulator sent Running → this process received virtwork's vm_running line; only the ${l.lags.length} of ${big.vms} VMs that went Running after virtwork's wait began. Of the median, the API server's share (sent → first seen by the simulator's patch response or this process's watch) is ${l.apiShareMedian} ms; virtwork's line came ${l.afterApiMedian} ms after that first sighting (median over ${l.split} VMs; two observers of one event, so ± a few ms)`,
      l.median >= 0 && l.median < 500,
      "median < 500 ms",
    );
    verdict(
      "detection lag, last VM (all sent Running → seen)",
      `${l.lagSeen} ms to see all, ${l.lagExit} ms to exit`,
      `last VM ${l.lastVm} sent Running ${iso(l.lastRunning)} (simulator's patch returned ${iso(big.simDoneLast)}, this process's watch saw it ${iso(big.watchLast)}); virtwork's last vm_running line arrived ${iso(l.sawAll)}, its process exited ${iso(l.exitAt)}`,
      l.lagSeen >= 0 && l.lagSeen < 1000,
      "< 1000 ms to see all",
    );
  }
  console.log(`  cleanup --wait (wall)                 ${fmt(big.cleanMs)}`);
  verdict(
    "cleanup requests",
    `${big.cleanRequests} for ${big.vms} VMs, ${small.cleanRequests} for ${small.vms} VMs`,
    `the ${big.vms}-VM cleanup may use at most 10 requests more than the ${small.vms}-VM one (${small.cleanRequests} + 10 = ${small.cleanRequests + 10})`,
    big.cleanRequests <= small.cleanRequests + 10,
    "grows with kinds, not VMs",
  );
  console.log(
    `  (${small.vms} VMs: deploy ${fmt(small.runMs)}, ${(small.runRequests / small.vms).toFixed(2)} requests per VM)`,
  );
} finally {
  await teardownIdentity();
  rmSync(work, { recursive: true, force: true });
}
if (invalid) {
  console.error("cluster benchmark: the detection-lag measurement is invalid (see above): exit 1");
  process.exitCode = 1;
} else if (notMet && process.env.BENCH_STRICT === "1") {
  console.error(`cluster benchmark: ${notMet} goal(s) not met and BENCH_STRICT=1: exit 3`);
  process.exitCode = 3;
}
