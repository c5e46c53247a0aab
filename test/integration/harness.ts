/**
 * Integration-test harness for the local test cluster (real kube-apiserver + etcd +
 * kube-controller-manager, real KubeVirt/CDI CRDs; see docs/test-cluster.md).
 *
 * API (all async functions are safe to call from any test file; the cluster is shared):
 *
 *   const cluster = await startCluster();
 *       Starts the cluster once (runs test/cluster/cluster-up.sh, which builds from the cache
 *       and reuses an already running cluster) and returns a ClusterInfo:
 *         server, kubeconfig (contexts admin + limited), adminKubeconfig, limitedKubeconfig,
 *         simulatorKubeconfig, limitedNamespace, caFile, versions, and
 *         kubeConfig("admin" | "limited" | "simulator") → a loaded @kubernetes/client-node KubeConfig.
 *       The cluster is left running when the process exits: `make integration` stops it when
 *       it started it, otherwise `make cluster-down` does.
 *
 *   const ns = await newNamespace({ prefix?: "vm", limitedAccess?: true });
 *       A fresh namespace (name `it-<prefix>-<random>`, label virtwork.io/test=true) for one
 *       test. limitedAccess binds the `virtwork-limited` ClusterRole there for the limited
 *       identity. Returns a TestNamespace:
 *         ns.name
 *         ns.kubeconfig(identity?)   a kubeconfig file whose context defaults to this namespace
 *         await ns.simulate(opts?)   starts the VMI simulator for this namespace (in-process)
 *         await ns.faults()          starts the fault injector webhook for this namespace;
 *                                    then inj.set({ rate: 0.3, code: 429 }) / inj.set(null)
 *         await ns.setFaults({ rate, code, retryAfterSeconds?, count?, operations?, resources? } | null)
 *                                    shorthand: starts the injector on first use
 *         await ns.delete()          deletes the namespace and waits until it is gone
 *
 *   await startSimulator(opts) / await startFaultInjector(namespace)
 *       The same, outside a TestNamespace (simulator defaults to the simulator identity).
 *
 *   await waitFor(async () => value | undefined, { timeoutMs?, intervalMs?, what? })
 *       Polls until the function returns something other than undefined/false.
 *
 *   after(closeAll)
 *       Register once per test file: stops every simulator and injector the file started and
 *       deletes its namespaces (they finish terminating through the namespace controller).
 *
 * Environment: VIRTWORK_CLUSTER_DIR overrides the state directory (default <repo>/.cluster);
 * VIRTWORK_SIM_LOG=1 makes simulators log every step to stderr.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import {
  type FaultInjector,
  type FaultSettings,
  startFaultInjector as startInjector,
} from "../cluster/faults.ts";
import {
  type Simulator,
  type SimulatorOptions,
  startSimulator as startSim,
} from "../cluster/simulator/simulator.ts";

export type { FaultInjector, FaultSettings, Simulator, SimulatorOptions };
export type Identity = "admin" | "limited" | "simulator";

export interface ClusterInfo {
  dir: string;
  server: string;
  kubeconfig: string;
  adminKubeconfig: string;
  limitedKubeconfig: string;
  simulatorKubeconfig: string;
  limitedNamespace: string;
  caFile: string;
  webhookCert: string;
  webhookKey: string;
  versions: { kubernetes: string; etcd: string; kubevirt: string; cdi: string };
  kubeConfig(identity?: Identity): k8s.KubeConfig;
}

export interface TestNamespace {
  name: string;
  kubeconfig(identity?: Identity): string;
  simulate(opts?: Partial<SimulatorOptions>): Promise<Simulator>;
  faults(): Promise<FaultInjector>;
  setFaults(settings: FaultSettings | null): Promise<void>;
  delete(): Promise<void>;
}

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const CLUSTER_SCRIPTS = join(REPO_ROOT, "test/cluster");

function clusterDir(): string {
  return process.env.VIRTWORK_CLUSTER_DIR ?? join(REPO_ROOT, ".cluster");
}

export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    execFile(
      cmd,
      args,
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ...opts.env },
        maxBuffer: 64 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 90 * 60 * 1000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

let clusterPromise: Promise<ClusterInfo> | undefined;
const configs = new Map<string, k8s.KubeConfig>();

function loadConfig(file: string): k8s.KubeConfig {
  let kc = configs.get(file);
  if (!kc) {
    kc = new k8s.KubeConfig();
    kc.loadFromFile(file);
    configs.set(file, kc);
  }
  return kc;
}

export function startCluster(): Promise<ClusterInfo> {
  clusterPromise ??= (async () => {
    const dir = clusterDir();
    const up = await run("bash", [join(CLUSTER_SCRIPTS, "cluster-up.sh")], {
      env: { VIRTWORK_CLUSTER_DIR: dir },
    });
    if (up.code !== 0) {
      throw new Error(`cluster-up.sh failed (exit ${up.code}):\n${up.stderr.slice(-4000)}`);
    }
    const state = JSON.parse(readFileSync(join(dir, "cluster.json"), "utf8")) as Omit<
      ClusterInfo,
      "kubeConfig" | "dir"
    >;
    const files: Record<Identity, string> = {
      admin: state.adminKubeconfig,
      limited: state.limitedKubeconfig,
      simulator: state.simulatorKubeconfig,
    };
    return { ...state, dir, kubeConfig: (identity: Identity = "admin") => loadConfig(files[identity]) };
  })();
  clusterPromise.catch(() => {
    clusterPromise = undefined;
  });
  return clusterPromise;
}

export async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const why = lastErr instanceof Error ? ` (last error: ${lastErr.message})` : "";
      throw new Error(
        `timed out after ${opts.timeoutMs ?? 30_000}ms waiting for ${opts.what ?? "condition"}${why}`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}

const simulators = new Set<Simulator>();
const injectors = new Set<FaultInjector>();
const namespaces = new Set<TestNamespace>();

export async function startSimulator(opts: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const cluster = await startCluster();
  const log = process.env.VIRTWORK_SIM_LOG
    ? (m: string) => process.stderr.write(`${new Date().toISOString()} simulator: ${m}\n`)
    : undefined;
  const sim = await startSim({
    kubeconfig: cluster.kubeConfig("simulator"),
    ...(log ? { log } : {}),
    ...opts,
  });
  simulators.add(sim);
  const stop = sim.stop.bind(sim);
  sim.stop = async () => {
    simulators.delete(sim);
    await stop();
  };
  return sim;
}

export async function startFaultInjector(namespace: string): Promise<FaultInjector> {
  const cluster = await startCluster();
  const inj = await startInjector({
    adminKubeconfig: cluster.kubeConfig("admin"),
    namespace,
    certFile: cluster.webhookCert,
    keyFile: cluster.webhookKey,
    caFile: cluster.caFile,
  });
  injectors.add(inj);
  const stop = inj.stop.bind(inj);
  inj.stop = async () => {
    injectors.delete(inj);
    await stop();
  };
  return inj;
}

export async function deleteNamespace(name: string, opts: { wait?: boolean; timeoutMs?: number } = {}) {
  const cluster = await startCluster();
  const core = cluster.kubeConfig("admin").makeApiClient(k8s.CoreV1Api);
  try {
    await core.deleteNamespace({ name });
  } catch (err) {
    if (!(err instanceof k8s.ApiException && err.code === 404)) throw err;
  }
  if (opts.wait === false) return;
  await waitFor(
    async () => {
      try {
        await core.readNamespace({ name });
        return false;
      } catch (err) {
        if (err instanceof k8s.ApiException && err.code === 404) return true;
        throw err;
      }
    },
    { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 250, what: `namespace ${name} to finish terminating` },
  );
}

export async function newNamespace(
  opts: { prefix?: string; limitedAccess?: boolean } = {},
): Promise<TestNamespace> {
  const cluster = await startCluster();
  const admin = cluster.kubeConfig("admin");
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const name = `it-${opts.prefix ?? "ns"}-${randomBytes(4).toString("hex")}`;
  await core.createNamespace({ body: { metadata: { name, labels: { "virtwork.io/test": "true" } } } });
  if (opts.limitedAccess) {
    await admin.makeApiClient(k8s.RbacAuthorizationV1Api).createNamespacedRoleBinding({
      namespace: name,
      body: {
        metadata: { name: "virtwork-limited" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "virtwork-limited" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "virtwork-limited" }],
      },
    });
  }
  let injector: FaultInjector | undefined;
  const ownSims = new Set<Simulator>();
  const files = new Map<Identity, string>();
  const ns: TestNamespace = {
    name,
    kubeconfig(identity: Identity = "admin") {
      let f = files.get(identity);
      if (!f) {
        const src = {
          admin: cluster.adminKubeconfig,
          limited: cluster.limitedKubeconfig,
          simulator: cluster.simulatorKubeconfig,
        }[identity];
        const text = readFileSync(src, "utf8").replace(/namespace: [a-z0-9-]+/g, `namespace: ${name}`);
        f = join(mkdtempSync(join(tmpdir(), "virtwork-kc-")), `${identity}.kubeconfig`);
        writeFileSync(f, text, { mode: 0o600 });
        files.set(identity, f);
      }
      return f;
    },
    async simulate(simOpts = {}) {
      const sim = await startSimulator({ namespace: name, ...simOpts });
      ownSims.add(sim);
      return sim;
    },
    async faults() {
      injector ??= await startFaultInjector(name);
      return injector;
    },
    async setFaults(settings) {
      if (!settings && !injector) return;
      (await ns.faults()).set(settings);
    },
    async delete() {
      namespaces.delete(ns);
      if (injector) await injector.stop();
      // the namespace's kubelet/virt-handler/storage stand-ins keep running until it is gone:
      // launcher and importer pods, VMI finalizers and PVs need them to finish terminating
      try {
        await deleteNamespace(name);
      } finally {
        for (const s of ownSims) await s.stop();
      }
    },
  };
  namespaces.add(ns);
  return ns;
}

/** stops what this process started (simulators, injectors) and deletes its namespaces */
export async function closeAll(): Promise<void> {
  for (const inj of [...injectors]) await inj.stop();
  await Promise.allSettled([...namespaces].map((ns) => ns.delete()));
  for (const sim of [...simulators]) await sim.stop();
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): unknown;
}

/**
 * A plain HTTPS request to the API server as one identity (no client library in between), for
 * assertions on status codes and headers such as Retry-After.
 */
export async function rawRequest(
  method: string,
  path: string,
  opts: { identity?: Identity; body?: unknown; contentType?: string } = {},
): Promise<RawResponse> {
  const cluster = await startCluster();
  const kc = cluster.kubeConfig(opts.identity ?? "admin");
  const token = kc.getCurrentUser()?.token ?? "";
  const url = new URL(path, cluster.server);
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const { request } = await import("node:https");
  return new Promise((resolvePromise, reject) => {
    const req = request(
      url,
      {
        method,
        ca: readFileSync(cluster.caFile),
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: "application/json",
          ...(payload ? { "Content-Type": opts.contentType ?? "application/json" } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          resolvePromise({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: () => JSON.parse(body),
          });
        });
      },
    );
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}
