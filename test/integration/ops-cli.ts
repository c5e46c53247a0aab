/**
 * Helpers of the ops-*.test.ts end-to-end tests: they run the BUILT CLI (`bin/virtwork`, i.e.
 * dist/virtwork.mjs) as a child process against the local test cluster, and read back what it
 * created with the admin identity.
 *
 *   await ensureBuilt()                      builds dist/ when it is missing or older than src/
 *   await virtwork(args, { kubeconfig?, env?, timeoutMs? })   → { code, stdout, stderr, ms }
 *   spawnVirtwork(args, opts)                a running child (for signals)
 *   await managedObjects(ns, runId?)         every labelled object by kind: name → labels
 *   FAST                                     simulator delays that keep the tests quick
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { REPO_ROOT, run, startCluster } from "./harness.ts";

export const BIN = join(REPO_ROOT, "bin/virtwork");
const BUNDLE = join(REPO_ROOT, "dist/virtwork.mjs");

/** Short phases so a run of a few VMs is Running in about a second. */
export const FAST = { scheduled: 50, running: 100, dataVolume: 150 };

/** The objects of the default plan (namespace excluded): 8 VMs, 8 cloud-init Secrets, 2 Services. */
export const DEFAULT_VMS = [
  "virtwork-cpu-0",
  "virtwork-memory-0",
  "virtwork-disk-0",
  "virtwork-database-0",
  "virtwork-network-server-0",
  "virtwork-network-client-0",
  "virtwork-tps-server-0",
  "virtwork-tps-client-0",
].sort();
export const DEFAULT_SECRETS = DEFAULT_VMS.map((n) => `${n}-cloudinit`).sort();
export const DEFAULT_SERVICES = ["virtwork-iperf3-server", "virtwork-tps-server"];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

let built: Promise<void> | undefined;

/** `make build` when dist/ is missing or older than src/ (under a lock: test files run in parallel). */
export function ensureBuilt(): Promise<void> {
  built ??= (async () => {
    const stale = () => !existsSync(BUNDLE) || statSync(BUNDLE).mtimeMs < newestMtime(join(REPO_ROOT, "src"));
    if (!stale()) return;
    const res = await run("flock", [
      join(REPO_ROOT, "package.json"),
      "bash",
      "-c",
      `if [ ! -e dist/virtwork.mjs ] || [ -n "$(find src -newer dist/virtwork.mjs -print -quit)" ]; then npm run --silent build; fi`,
    ]);
    if (res.code !== 0) throw new Error(`build failed:\n${res.stderr}`);
  })();
  return built;
}

/** A HOME of its own per test process: the audit database and ~/.kube stay out of the user's. */
const home = mkdtempSync(join(tmpdir(), "virtwork-ops-home-"));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function childEnv(opts: { kubeconfig?: string; env?: NodeJS.ProcessEnv }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("VIRTWORK_")) env[k] = v;
  delete env.KUBECONFIG;
  return {
    ...env,
    HOME: home,
    ...(opts.kubeconfig ? { KUBECONFIG: opts.kubeconfig } : {}),
    ...opts.env,
  };
}

/** Runs `bin/virtwork args…`; KUBECONFIG is `opts.kubeconfig` (nothing else leaks in from the test's env). */
export async function virtwork(
  args: string[],
  opts: { kubeconfig?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  await ensureBuilt();
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(
      BIN,
      args,
      {
        cwd: home,
        env: childEnv(opts),
        maxBuffer: 64 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 120_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr), ms: Date.now() - t0 });
      },
    );
  });
}

/** Starts `bin/virtwork args…` and returns the child plus a promise of its result. */
export async function spawnVirtwork(
  args: string[],
  opts: { kubeconfig?: string; env?: NodeJS.ProcessEnv; asExecutable?: boolean } = {},
): Promise<{ child: ChildProcess; stderrSoFar: () => string; result: Promise<CliResult> }> {
  await ensureBuilt();
  const t0 = Date.now();
  // By default bin/virtwork runs on this Node, which imports the bundle in its own process.
  // asExecutable: bin/virtwork itself, started through its `#!/usr/bin/env node` line, so the
  // first Node on the child's PATH runs the launcher.
  const [file, argv] = opts.asExecutable ? [BIN, args] : [process.execPath, [BIN, ...args]];
  const child = spawn(file, argv, {
    cwd: home,
    env: childEnv(opts),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString("utf8");
  });
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString("utf8");
  });
  const result = new Promise<CliResult>((resolve) => {
    child.on("close", (code, signal) =>
      // Killed by a signal: report it as a shell would (128 + its number; SIGINT → 130).
      resolve({
        code: code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : -1),
        stdout,
        stderr,
        ms: Date.now() - t0,
      }),
    );
  });
  return { child, stderrSoFar: () => stderr, result };
}

/** A JSON document printed on stdout by `-o json` (the only thing on stdout then). */
export function parseJson<T = Record<string, unknown>>(res: CliResult): T {
  try {
    return JSON.parse(res.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${res.code}):\n${res.stdout}\nstderr:\n${res.stderr}`);
  }
}

export type Labels = Record<string, string>;
export interface Managed {
  vms: Map<string, Labels>;
  vmis: Map<string, Labels>;
  secrets: Map<string, Labels>;
  services: Map<string, Labels>;
  dataVolumes: Map<string, Labels>;
}

const KV = { group: "kubevirt.io", version: "v1" };

/** What exists in `namespace` (admin view): every VM, VMI, Secret, Service, DataVolume, with labels. */
export async function objectsIn(namespace: string, labelSelector?: string): Promise<Managed> {
  const cluster = await startCluster();
  const kc = cluster.kubeConfig("admin");
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const sel = labelSelector ? { labelSelector } : {};
  const toMap = (items: { metadata?: { name?: string; labels?: Labels } }[]) =>
    new Map(items.map((i) => [i.metadata?.name ?? "", i.metadata?.labels ?? {}]));
  const listCustom = async (group: string, version: string, plural: string) =>
    (
      (await custom.listNamespacedCustomObject({ group, version, namespace, plural, ...sel })) as {
        items: { metadata?: { name?: string; labels?: Labels } }[];
      }
    ).items;
  const [vms, vmis, secrets, services, dataVolumes] = await Promise.all([
    listCustom(KV.group, KV.version, "virtualmachines"),
    listCustom(KV.group, KV.version, "virtualmachineinstances"),
    core.listNamespacedSecret({ namespace, ...sel }).then((l) => l.items),
    core.listNamespacedService({ namespace, ...sel }).then((l) => l.items),
    listCustom("cdi.kubevirt.io", "v1beta1", "datavolumes"),
  ]);
  return {
    vms: toMap(vms),
    vmis: toMap(vmis),
    secrets: toMap(secrets),
    services: toMap(services),
    dataVolumes: toMap(dataVolumes),
  };
}

/** The labelled objects of one run (or every virtwork object when runId is omitted). */
export function managedObjects(namespace: string, runId?: string): Promise<Managed> {
  return objectsIn(
    namespace,
    `app.kubernetes.io/managed-by=virtwork${runId ? `,virtwork/run-id=${runId}` : ""}`,
  );
}

export const names = (m: Map<string, unknown>) => [...m.keys()].sort();

export async function namespaceLabels(name: string): Promise<Labels | undefined> {
  const cluster = await startCluster();
  try {
    const ns = await cluster.kubeConfig("admin").makeApiClient(k8s.CoreV1Api).readNamespace({ name });
    return ns.metadata?.labels ?? {};
  } catch (err) {
    if (err instanceof k8s.ApiException && err.code === 404) return undefined;
    throw err;
  }
}

/** A fresh namespace name the test does NOT create (virtwork will); the caller deletes it. */
export function freshNamespaceName(prefix: string): string {
  return `it-${prefix}-${Math.random().toString(16).slice(2, 10)}`;
}
