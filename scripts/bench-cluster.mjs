// Cluster benchmark (npm run bench, when the local test cluster is up; run with
// `node --experimental-strip-types scripts/bench-cluster.mjs`). Reports, never fails on a number.
//
// Deploys 200 VMs (the six default workloads × --vm-count 25) with the built CLI against the local
// test cluster and its VMI simulator, then cleans them up, and reports:
//  - wall time from `virtwork run` to every VM seen Running (the CLI returns then);
//  - API requests per VM, counted by the API server itself: virtwork runs as its own identity
//    (a client certificate for user virtwork-bench), and a FlowSchema for that user makes
//    `apiserver_flowcontrol_dispatched_requests_total{flow_schema="virtwork-bench"}` count exactly
//    its requests (the simulator's and everyone else's land in other flow schemas);
//  - readiness-detection lag: the simulator's Running time (its log line right after the VMI's
//    status patch returned; the simulator runs as its own process), or an idle watch in this
//    process if that saw it first → virtwork noticing it (`vm_running` events of `-v`, with the
//    time virtwork observed the phase);
//  - cleanup wall time and request count, at 200 VMs and at 24 VMs (it should depend on the
//    object kinds, not on the VM count).
// Goals: ≤ 2.1 requests per VM for create+wait; detection lag median < 0.5 s.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { deleteNamespace, rawRequest, startCluster } from "../test/integration/harness.ts";

const REPO = new URL("..", import.meta.url).pathname;
const USER = "virtwork-bench";
const VM_COUNT_PER_WORKLOAD = Number(process.env.BENCH_VM_COUNT ?? 25); // × 8 VMs per count = 200
const work = mkdtempSync(join(tmpdir(), "virtwork-bench-cluster-"));

const cluster = await startCluster();
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

function virtwork(args, kubeconfig) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VIRTWORK_")));
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(REPO, "bin/virtwork"), ...args], {
      env: { ...env, HOME: work, KUBECONFIG: kubeconfig, VIRTWORK_AUDIT: "false" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => {
      stdout += c;
    });
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 }));
  });
}

const pct = (values, p) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] : Number.NaN;
};

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
        const hit = /^(\S+) simulator: VirtualMachineInstance \S+\/(\S+) → Running/.exec(line);
        if (hit) simRunning.set(hit[2], Date.parse(hit[1]));
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
  // A second, idle observer: a plain watch in this process. The earlier of its time and the
  // simulator's log line is the reference (the simulator's own event loop is busy at 200 VMs).
  const observed = new Map();
  const watch = await new k8s.Watch(admin).watch(
    `/apis/kubevirt.io/v1/namespaces/${name}/virtualmachineinstances`,
    { timeoutSeconds: 25 * 60 },
    (_type, vmi) => {
      if (vmi?.status?.phase === "Running" && !observed.has(vmi.metadata.name))
        observed.set(vmi.metadata.name, Date.now());
    },
    () => {},
  );
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

    // Only VMs that went Running while virtwork was watching: the ones already Running when the
    // wait began are reported with their (second-precision) transition time, not a detection.
    const waitLine = run.stderr.split("\n").find((l) => l.includes('"msg":"waiting for VMs to be running"'));
    const waitStart = waitLine ? Date.parse(JSON.parse(waitLine).time) : 0;
    const lags = [];
    for (const line of run.stderr.split("\n")) {
      if (!line.includes('"msg":"vm_running"')) continue;
      const event = JSON.parse(line);
      const refs = [simRunning.get(event.name), observed.get(event.name)].filter((t) => t !== undefined);
      if (refs.length && Math.min(...refs) >= waitStart) lags.push(Date.parse(event.at) - Math.min(...refs));
    }

    const clean = await virtwork(["cleanup", "-n", ns.name, "--yes", "--wait"], kubeconfig);
    if (clean.code !== 0)
      throw new Error(`virtwork cleanup exited ${clean.code}:\n${clean.stderr.slice(-3000)}`);
    const afterClean = await dispatched();
    return {
      vms,
      objects: Object.values(summary.created).reduce((a, b) => a + b, 0),
      runMs: run.ms,
      runRequests: afterRun - before,
      lags,
      matched: lags.length,
      cleanMs: clean.ms,
      cleanRequests: afterClean - afterRun,
    };
  } finally {
    watch.abort();
    await sim.stop();
    await deleteNamespace(name, { wait: false });
  }
}

try {
  const big = await round(VM_COUNT_PER_WORKLOAD);
  const small = await round(3);
  const perVm = big.runRequests / big.vms;
  const lagMedian = pct(big.lags, 50);
  const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
  console.log(
    `\ncluster benchmark: ${big.vms} VMs (${big.objects} objects) against the local test cluster + simulator`,
  );
  console.log(`  deploy + all Running (wall)           ${fmt(big.runMs)}`);
  console.log(
    `  API requests, create + wait           ${big.runRequests} = ${perVm.toFixed(2)} per VM   goal ≤ 2.1 ${perVm <= 2.1 ? "(met)" : "(NOT met)"}`,
  );
  console.log(
    `  detection lag (sim Running → seen)    median ${lagMedian} ms, p95 ${pct(big.lags, 95)} ms, max ${pct(big.lags, 100)} ms over the ${big.matched} VMs that went Running during the wait   goal median < 500 ms ${lagMedian < 500 ? "(met)" : "(NOT met)"}`,
  );
  console.log(`  cleanup --wait (wall)                 ${fmt(big.cleanMs)}`);
  console.log(
    `  cleanup requests                      ${big.cleanRequests} for ${big.vms} VMs, ${small.cleanRequests} for ${small.vms} VMs   goal: grows with kinds, not VMs ${big.cleanRequests <= small.cleanRequests + 10 ? "(met)" : "(NOT met)"}`,
  );
  console.log(
    `  (${small.vms} VMs: deploy ${fmt(small.runMs)}, ${(small.runRequests / small.vms).toFixed(2)} requests per VM)`,
  );
} finally {
  await teardownIdentity();
  rmSync(work, { recursive: true, force: true });
}
