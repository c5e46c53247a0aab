/**
 * Node simulator: plays the two parts of a KubeVirt cluster that cannot run here — the kubelet
 * (it runs no containers) and virt-handler (it runs no QEMU) — next to KubeVirt's own virt-api and
 * virt-controller, CDI's controller and kube-scheduler (test/cluster/start-kubevirt.sh). What a user
 * sees (VMI created from the VM, the virt-launcher pod, VM printableStatus and conditions, the
 * Unschedulable message, quota refusals) is written by those real components; this file only
 * reports what a node would:
 *
 *  - kubelet, for virt-launcher pods (label kubevirt.io=virt-launcher) once kube-scheduler bound
 *    them: after `delays.scheduled` ms the pod is Running with every container started (status
 *    through pods/status, as a kubelet writes it); the pod's Ready condition follows the compute
 *    container's readiness probe — the VMI's own probe, which virt-controller copied into the pod:
 *    it passes `delays.agent + delays.ready` ms after the guest runs, never in `NeverReady` mode
 *    (Ready=False, ContainersNotReady, as kubelet reports). A pod being deleted is removed at once
 *    (the kubelet's final delete). `ImagePull` keeps the pod Pending with the containerDisk
 *    container waiting in ErrImagePull, then ImagePullBackOff, with the runtime's message;
 *    `Failed` ends the pod Failed (compute exited 1) once virt-handler failed the VMI.
 *  - virt-handler: keeps each Node's `kubevirt.io/heartbeat` fresh (virt-controller's node
 *    controller fails the VMIs of a node whose virt-handler is silent); moves a VMI that
 *    virt-controller Scheduled on a node to Running after `delays.running` ms (interfaces and
 *    IP, guest OS, LiveMigratable, AgentConnected `delays.agent` ms later); a VMI being deleted is
 *    reported Succeeded (the domain shut down), after which virt-controller lets it go.
 *
 * Failure modes come from the VM annotation `simulator.virtwork.io/fail` (`Failed`, `ImagePull`,
 * `NeverReady`), `simulator.virtwork.io/fail-reason` (message), the `failures` option or
 * `setFailure()`. What the real components decide is not injected here: a VM no node fits is
 * refused by kube-scheduler (ask for more memory than a fake node has), a quota by the apiserver
 * (create a ResourceQuota).
 *
 * With `storage` (the default) it also starts storage.ts: the sandbox StorageClass's provisioner
 * and the kubelet for CDI's importer pods, so CDI's own controller completes DataVolumes.
 *
 * Several simulators may act at once (`make sandbox` beside a test run): writes carry the
 * resourceVersion they were computed from and retry on conflict. The sandbox skips the
 * integration tests' `it-*` namespaces (option `ignoreNamespace`).
 */
import * as k8s from "@kubernetes/client-node";
import { startStorage } from "./storage.ts";
import { type Listed, watchLoops } from "./watch.ts";

export type FailureMode = "Failed" | "ImagePull" | "NeverReady";

export interface PhaseDelays {
  /** ms a bound virt-launcher pod takes to start (kubelet: pull, create, start) */
  scheduled: number;
  /** ms from Scheduled (virt-controller) to Running (virt-handler started the domain; `Failed`: it could not) */
  running: number;
  /** ms after Running until the guest agent connects (AgentConnected=True) */
  agent: number;
  /** ms after the agent connected until the readiness probe passes (pod and VMI Ready=True) */
  ready: number;
  /** ms CDI's importer pod runs before it completes (storage.ts) */
  dataVolume: number;
}

export interface SimulatorOptions {
  /** kubeconfig file (the cluster's simulator.kubeconfig) or a loaded KubeConfig */
  kubeconfig: string | k8s.KubeConfig;
  /** watch only this namespace (tests); all namespaces when omitted (sandbox) */
  namespace?: string;
  delays?: Partial<PhaseDelays>;
  /** first three octets of the pod network; VMIs get <prefix>.<n> */
  ipPrefix?: string;
  /** namespaces to leave alone when watching all namespaces (the sandbox skips test namespaces) */
  ignoreNamespace?: (namespace: string) => boolean;
  /** VM name → failure mode (in addition to the VM annotation) */
  failures?: Record<string, FailureMode>;
  log?: (msg: string) => void;
  /** server-side timeout of each watch request (s); must stay below client-node's 30 s inactivity abort */
  watchTimeoutSeconds?: number;
  /** also play the storage provisioner and CDI's importer pods (storage.ts); default true */
  storage?: boolean;
}

export interface Simulator {
  stop(): Promise<void>;
  setFailure(vmName: string, mode: FailureMode | undefined): void;
  /** resolves when the simulator has no reconcile in flight (pending timers do not count) */
  idle(): Promise<void>;
  /** number of reconcile errors seen (retried with backoff) */
  readonly errors: number;
  /** number of watch requests that ended (server-side timeout, error); each is resumed */
  readonly watchRestarts: number;
}

export const FAIL_ANNOTATION = "simulator.virtwork.io/fail";
export const FAIL_REASON_ANNOTATION = "simulator.virtwork.io/fail-reason";
export const DEFAULT_DELAYS: PhaseDelays = {
  scheduled: 200,
  running: 300,
  agent: 0,
  ready: 0,
  dataVolume: 300,
};

interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  ownerReferences?: { kind: string; name: string; controller?: boolean }[];
}
interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string | null;
  lastProbeTime?: string | null;
}
interface Container {
  name: string;
  image?: string;
}
interface Pod {
  metadata: Meta;
  spec?: { nodeName?: string; containers?: Container[]; initContainers?: Container[] };
  status?: { phase?: string; conditions?: Condition[]; startTime?: string; [k: string]: unknown };
}
interface VMI {
  metadata: Meta;
  spec?: {
    domain?: { devices?: { interfaces?: { name?: string }[] } };
    networks?: { name?: string }[];
    volumes?: { containerDisk?: { image?: string } }[];
  };
  status?: { phase?: string; nodeName?: string; conditions?: Condition[]; [k: string]: unknown };
}
interface VM {
  metadata: Meta;
}

const MERGE = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);
const JSON_PATCH = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.JsonPatch);
const LAUNCHER = "kubevirt.io=virt-launcher";

function httpCode(err: unknown): number | undefined {
  return err instanceof k8s.ApiException ? err.code : undefined;
}
function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}
function nowIso(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}
/** the VM (and VMI) a launcher pod runs: its controlling VMI's name */
function vmiOf(pod: Pod): string | undefined {
  return pod.metadata.ownerReferences?.find((o) => o.kind === "VirtualMachineInstance" && o.controller)?.name;
}
const TIMES = new Set(["lastTransitionTime", "lastProbeTime", "startedAt", "finishedAt", "startTime"]);
/** whether `have` already holds everything `want` says (timestamps aside; fields the server added are fine) */
function contains(want: unknown, have: unknown): boolean {
  if (Array.isArray(want)) {
    return Array.isArray(have) && want.length === have.length && want.every((w, i) => contains(w, have[i]));
  }
  if (want && typeof want === "object") {
    if (!have || typeof have !== "object") return false;
    const h = have as Record<string, unknown>;
    return Object.entries(want as Record<string, unknown>).every(
      ([k, v]) => TIMES.has(k) || (v === null ? h[k] === undefined || h[k] === null : contains(v, h[k])),
    );
  }
  return want === have;
}
/** sets a condition, keeping lastTransitionTime when its status did not change */
function withCondition(list: Condition[] | undefined, c: Condition, ts: string): Condition[] {
  const old = list?.find((p) => p.type === c.type);
  const keep = old && old.status === c.status && old.lastTransitionTime;
  const next = { ...c, lastTransitionTime: keep ? old.lastTransitionTime : ts };
  return [...(list ?? []).filter((p) => p.type !== c.type), next];
}

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const kc = typeof opts.kubeconfig === "string" ? new k8s.KubeConfig() : opts.kubeconfig;
  if (typeof opts.kubeconfig === "string") kc.loadFromFile(opts.kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const delays: PhaseDelays = { ...DEFAULT_DELAYS, ...opts.delays };
  const ipPrefix = opts.ipPrefix ?? "10.128.0";
  const failures = new Map<string, FailureMode>(Object.entries(opts.failures ?? {}));
  const log = opts.log ?? (() => {});
  const ns = opts.namespace;
  const KV = { group: "kubevirt.io", version: "v1", plural: "virtualmachineinstances" };

  let stopped = false;
  let errors = 0;
  const timers = new Map<string, NodeJS.Timeout>();
  const chains = new Map<string, Promise<void>>();
  const inflight = new Set<Promise<void>>();
  const retries = new Map<string, number>();
  /** key → when the object entered the state the simulator is timing (ms) */
  const since = new Map<string, number>();

  function schedule(key: string, ms: number): void {
    if (stopped) return;
    const old = timers.get(key);
    if (old) clearTimeout(old);
    timers.set(
      key,
      setTimeout(
        () => {
          timers.delete(key);
          enqueue(key);
        },
        Math.max(0, ms),
      ),
    );
  }

  /** keys: pod:<ns>/<name> or vmi:<ns>/<name>; one reconcile per key at a time */
  function enqueue(key: string): void {
    if (stopped) return;
    const namespace = key.slice(key.indexOf(":") + 1).split("/")[0] ?? "";
    if (opts.ignoreNamespace?.(namespace)) return;
    const prev = chains.get(key) ?? Promise.resolve();
    const next = prev.then(async () => {
      if (stopped) return;
      try {
        await (key.startsWith("pod:") ? reconcilePod(key) : reconcileVMI(key));
        retries.delete(key);
      } catch (err) {
        if (stopped) return;
        errors++;
        const n = (retries.get(key) ?? 0) + 1;
        retries.set(key, n);
        const code = httpCode(err);
        if (code !== 409) log(`reconcile ${key} failed (${code ?? (err as Error).message}); retry ${n}`);
        schedule(key, code === 409 ? 20 : Math.min(5000, 100 * 2 ** n));
      }
    });
    chains.set(key, next);
    inflight.add(next);
    void next.finally(() => {
      inflight.delete(next);
      if (chains.get(key) === next) chains.delete(key);
    });
  }

  const vmCache = new Map<string, VM>();
  async function failureOf(namespace: string, vmName: string, image?: string, probe?: string) {
    let vm = vmCache.get(`${namespace}/${vmName}`);
    if (!vm) {
      try {
        vm = (await custom.getNamespacedCustomObject({
          group: "kubevirt.io",
          version: "v1",
          plural: "virtualmachines",
          namespace,
          name: vmName,
        })) as VM;
        vmCache.set(`${namespace}/${vmName}`, vm);
      } catch (err) {
        if (httpCode(err) !== 404) throw err;
      }
    }
    const a = vm?.metadata.annotations?.[FAIL_ANNOTATION]?.toLowerCase();
    const byAnnotation: Record<string, FailureMode> = { imagepull: "ImagePull", neverready: "NeverReady" };
    const mode = failures.get(vmName) ?? (a ? (byAnnotation[a] ?? "Failed") : undefined);
    if (!mode) return undefined;
    const img = image ?? "quay.io/containerdisks/fedora:latest";
    const defaults: Record<FailureMode, string> = {
      Failed:
        "server error. command SyncVMI failed: \"LibvirtError(Code=1, Domain=10, Message='internal error: qemu unexpectedly closed the monitor')\"",
      ImagePull: `rpc error: code = NotFound desc = failed to pull and unpack image "${img}": failed to resolve reference "${img}": not found`,
      NeverReady: `readiness probe failed: ${probe ?? "guest agent exec"}: exit status 3`,
    };
    return { mode, message: vm?.metadata.annotations?.[FAIL_REASON_ANNOTATION] ?? defaults[mode] };
  }

  async function getPod(namespace: string, name: string): Promise<Pod | undefined> {
    try {
      return (await core.readNamespacedPod({ namespace, name })) as Pod;
    } catch (err) {
      if (httpCode(err) === 404) return undefined;
      throw err;
    }
  }
  async function getVMI(namespace: string, name: string): Promise<VMI | undefined> {
    try {
      return (await custom.getNamespacedCustomObject({ ...KV, namespace, name })) as VMI;
    } catch (err) {
      if (httpCode(err) === 404) return undefined;
      throw err;
    }
  }

  // --- kubelet ---------------------------------------------------------------------------------
  async function reconcilePod(key: string): Promise<void> {
    const [namespace = "", name = ""] = key.slice(4).split("/");
    const pod = await getPod(namespace, name);
    if (!pod) {
      since.delete(key);
      return;
    }
    if (pod.metadata.deletionTimestamp) {
      // the kubelet's last word: the containers are gone, the pod object may go
      await core
        .deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 })
        .catch((e) => (httpCode(e) === 404 ? undefined : Promise.reject(e)));
      log(`pod ${namespace}/${name} deleted (terminated)`);
      return;
    }
    if (!pod.spec?.nodeName) return; // kube-scheduler has not bound it (or cannot)
    if (pod.status?.phase === "Failed" || pod.status?.phase === "Succeeded") return;
    if (!since.has(key)) since.set(key, Date.now());
    const vmiName = vmiOf(pod);
    const vmi = vmiName ? await getVMI(namespace, vmiName) : undefined;
    const image = vmi?.spec?.volumes?.find((v) => v.containerDisk?.image)?.containerDisk?.image;
    const failure = vmiName ? await failureOf(namespace, vmiName, image) : undefined;
    const ts = nowIso();
    const started = since.get(key) ?? Date.now();
    const containers = pod.spec.containers ?? [];
    const inits = pod.spec.initContainers ?? [];
    const running = (c: Container, ready: boolean) => ({
      name: c.name,
      image: c.image ?? "",
      imageID: "",
      containerID: `simulated://${hash(`${namespace}/${name}/${c.name}`).toString(16)}`,
      ready,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: new Date(started).toISOString().replace(/\.\d{3}Z$/, "Z") } },
    });
    const done = (c: Container) => ({
      name: c.name,
      image: c.image ?? "",
      imageID: "",
      ready: true,
      restartCount: 0,
      state: { terminated: { exitCode: 0, reason: "Completed", startedAt: ts, finishedAt: ts } },
    });
    let status: Record<string, unknown>;
    const left = started + delays.scheduled - Date.now();
    if (failure?.mode === "ImagePull") {
      const first = Date.now() - started < 1000;
      if (first) schedule(key, 1000);
      const waiting = (c: Container) => ({
        name: c.name,
        image: c.image ?? "",
        imageID: "",
        ready: false,
        restartCount: 0,
        state: {
          waiting: first
            ? { reason: "ErrImagePull", message: failure.message }
            : {
                reason: "ImagePullBackOff",
                message: `Back-off pulling image "${c.image}": ${failure.message}`,
              },
        },
      });
      status = {
        phase: "Pending",
        hostIP: "127.0.0.1",
        startTime: ts,
        initContainerStatuses: inits.map((c) => (c.image === image ? waiting(c) : done(c))),
        containerStatuses: containers.map((c) => (c.image === image ? waiting(c) : { ...waiting(c) })),
      };
    } else if (left > 0) {
      schedule(key, left);
      return;
    } else if (failure?.mode === "Failed" && vmi?.status?.phase === "Failed") {
      status = {
        phase: "Failed",
        containerStatuses: containers.map((c) => ({
          ...running(c, false),
          state: {
            terminated: { exitCode: 1, reason: "Error", message: failure.message, finishedAt: ts },
          },
        })),
      };
    } else {
      // compute's readiness: the VMI's probe; it can pass once the guest runs and its agent is up
      const guestUp = since.get(`vmi:${namespace}/${vmiName}`);
      const probeAt = guestUp === undefined ? undefined : guestUp + delays.agent + delays.ready;
      const ready = probeAt !== undefined && Date.now() >= probeAt && failure?.mode !== "NeverReady";
      if (!ready && probeAt !== undefined && failure?.mode !== "NeverReady") {
        schedule(key, probeAt - Date.now() + 5);
      }
      const cs = containers.map((c) => running(c, c.name === "compute" ? ready : true));
      const notReady = cs.filter((c) => !c.ready).map((c) => c.name);
      let conditions = pod.status?.conditions;
      for (const c of [
        { type: "Initialized", status: "True" },
        {
          type: "ContainersReady",
          status: ready ? "True" : "False",
          ...(ready
            ? {}
            : {
                reason: "ContainersNotReady",
                message: `containers with unready status: [${notReady.join(" ")}]`,
              }),
        },
        {
          type: "Ready",
          status: ready ? "True" : "False",
          ...(ready
            ? {}
            : {
                reason: "ContainersNotReady",
                message: `containers with unready status: [${notReady.join(" ")}]`,
              }),
        },
      ]) {
        conditions = withCondition(conditions, { ...c, lastProbeTime: null }, ts);
      }
      status = {
        phase: "Running",
        hostIP: "127.0.0.1",
        podIP: `${ipPrefix}.${(hash(`${namespace}/${name}`) % 250) + 2}`,
        startTime: new Date(started).toISOString().replace(/\.\d{3}Z$/, "Z"),
        conditions,
        initContainerStatuses: inits.map(done),
        containerStatuses: cs,
      };
    }
    if (contains(status, pod.status)) return;
    await core.patchNamespacedPodStatus(
      { namespace, name, body: { metadata: { resourceVersion: pod.metadata.resourceVersion }, status } },
      MERGE,
    );
    log(`pod ${namespace}/${name} → ${String(status.phase)}`);
  }

  // --- virt-handler ------------------------------------------------------------------------------
  async function reconcileVMI(key: string): Promise<void> {
    const [namespace = "", name = ""] = key.slice(4).split("/");
    const vmi = await getVMI(namespace, name);
    if (!vmi) {
      since.delete(key);
      return;
    }
    const phase = vmi.status?.phase;
    const nodeName = vmi.status?.nodeName;
    const ts = nowIso();
    let status: Record<string, unknown> | undefined;
    if (vmi.metadata.deletionTimestamp) {
      // the domain shut down; virt-controller then deletes the pod and releases the VMI
      if (phase === "Running" || phase === "Scheduled") status = { phase: "Succeeded" };
    } else if (phase === "Scheduled" && nodeName) {
      if (!since.has(`sched:${key}`)) since.set(`sched:${key}`, Date.now());
      const left = (since.get(`sched:${key}`) ?? 0) + delays.running - Date.now();
      if (left > 0) {
        schedule(key, left);
        return;
      }
      const failure = await failureOf(namespace, name);
      // QEMU could not start the domain: virt-handler fails the VMI before it ever runs, which
      // virt-controller counts as a start failure (CrashLoopBackOff with backoff)
      status =
        failure?.mode === "Failed"
          ? { phase: "Failed", reason: failure.message }
          : { phase: "Running", ...guestStatus(vmi, nodeName, false, ts) };
    } else if (phase === "Running" && nodeName) {
      if (!since.has(key)) since.set(key, Date.now());
      const agentAt = (since.get(key) ?? 0) + delays.agent;
      const agent = Date.now() >= agentAt;
      if (!agent) schedule(key, agentAt - Date.now() + 5);
      status = guestStatus(vmi, nodeName, agent, ts);
    }
    if (!status) return;
    if (status.phase && status.phase !== phase) {
      // virt-handler records each phase it sets, as virt-controller does for its own
      const prev = (vmi.status?.phaseTransitionTimestamps as unknown[] | undefined) ?? [];
      status.phaseTransitionTimestamps = [...prev, { phase: status.phase, phaseTransitionTimestamp: ts }];
    }
    if (contains(status, vmi.status)) return;
    // VMIs have no status subresource; virt-api keeps status changes only from KubeVirt's own
    // service accounts, so the simulator authenticates as virt-handler's (cluster-up's tokens)
    // A JSON patch, not a merge patch: it keeps `lastProbeTime: null` as virt-handler's Go structs
    // write it; virt-controller's own JSON patches test the conditions array verbatim.
    const ops = [
      { op: "test", path: "/metadata/resourceVersion", value: vmi.metadata.resourceVersion },
      ...Object.entries(status).map(([k, value]) => ({ op: "add", path: `/status/${k}`, value })),
    ];
    const sent = Date.now();
    await custom.patchNamespacedCustomObject({ ...KV, namespace, name, body: ops }, JSON_PATCH);
    if (status.phase && status.phase !== phase) {
      if (status.phase === "Running") since.set(key, Date.now());
      // "sent": when the phase was handed to the API server; nobody can observe it earlier (the
      // cluster benchmark measures detection lag from it)
      log(
        `VirtualMachineInstance ${namespace}/${name} → ${String(status.phase)} (sent ${new Date(sent).toISOString()})`,
      );
      // the launcher pod's readiness depends on when the guest came up
      const pods = await core.listNamespacedPod({ namespace, labelSelector: LAUNCHER });
      for (const p of pods.items)
        if (vmiOf(p as Pod) === name) enqueue(`pod:${namespace}/${p.metadata?.name}`);
    }
  }

  function guestStatus(vmi: VMI, nodeName: string, agent: boolean, ts: string): Record<string, unknown> {
    const namespace = vmi.metadata.namespace ?? "";
    const h = hash(`${namespace}/${vmi.metadata.name}`);
    const ifName =
      vmi.spec?.domain?.devices?.interfaces?.[0]?.name ?? vmi.spec?.networks?.[0]?.name ?? "default";
    const ip = `${ipPrefix}.${(h % 250) + 2}`;
    const mac = `02:${[1, 2, 3, 4, 5].map((i) => ((h >>> (i * 5)) & 0xff).toString(16).padStart(2, "0")).join(":")}`;
    let conditions = withCondition(
      vmi.status?.conditions,
      { type: "LiveMigratable", status: "True", lastProbeTime: null },
      ts,
    );
    if (agent)
      conditions = withCondition(
        conditions,
        { type: "AgentConnected", status: "True", lastProbeTime: null },
        ts,
      );
    return {
      conditions,
      interfaces: [
        {
          name: ifName,
          interfaceName: "eth0",
          ipAddress: ip,
          ipAddresses: [ip],
          mac,
          infoSource: agent ? "domain, guest-agent" : "domain",
          queueCount: 1,
          podInterfaceName: "eth0",
        },
      ],
      migrationMethod: "BlockMigration",
      migrationTransport: "Unix",
      ...(agent
        ? {
            guestOSInfo: {
              id: "fedora",
              name: "Fedora Linux",
              prettyName: "Fedora Linux 42 (Cloud Edition)",
            },
          }
        : {}),
      nodeName,
    };
  }

  // --- node heartbeat (virt-handler's) -----------------------------------------------------------
  async function heartbeat(): Promise<void> {
    const nodes = await core.listNode({ labelSelector: "kubevirt.io/schedulable" });
    for (const n of nodes.items) {
      await core.patchNode(
        {
          name: n.metadata?.name ?? "",
          body: { metadata: { annotations: { "kubevirt.io/heartbeat": nowIso() } } },
        },
        MERGE,
      );
    }
  }
  const storage =
    opts.storage === false
      ? undefined
      : await startStorage({
          kubeconfig: kc,
          ...(ns ? { namespace: ns } : {}),
          ...(opts.ignoreNamespace ? { ignoreNamespace: opts.ignoreNamespace } : {}),
          importDelayMs: delays.dataVolume,
          log,
        });
  const beat = setInterval(() => void heartbeat().catch(() => {}), 60_000);
  void heartbeat().catch((e) => log(`heartbeat failed: ${(e as Error).message}`));

  const keyOf = (m: Meta) => `${m.namespace ?? ""}/${m.name}`;
  const watches = watchLoops(kc, log, opts.watchTimeoutSeconds);
  watches.start(
    ns ? `/api/v1/namespaces/${ns}/pods` : "/api/v1/pods",
    () =>
      ns
        ? core.listNamespacedPod({ namespace: ns, labelSelector: LAUNCHER })
        : core.listPodForAllNamespaces({ labelSelector: LAUNCHER }),
    (type, obj) => {
      if (type !== "DELETED") enqueue(`pod:${keyOf(obj.metadata as unknown as Meta)}`);
    },
    { labelSelector: LAUNCHER },
  );
  watches.start(
    ns
      ? `/apis/kubevirt.io/v1/namespaces/${ns}/virtualmachineinstances`
      : "/apis/kubevirt.io/v1/virtualmachineinstances",
    async () =>
      (await (ns
        ? custom.listNamespacedCustomObject({ ...KV, namespace: ns })
        : custom.listClusterCustomObject({ ...KV }))) as Listed,
    (type, o) => {
      const obj = o as unknown as VMI;
      const key = `vmi:${keyOf(obj.metadata)}`;
      if (type === "DELETED") {
        since.delete(key);
        since.delete(`sched:${key}`);
        vmCache.delete(keyOf(obj.metadata));
      } else enqueue(key);
    },
  );

  return {
    get watchRestarts() {
      return watches.restarts;
    },
    get errors() {
      return errors;
    },
    setFailure(vmName, mode) {
      if (mode) failures.set(vmName, mode);
      else failures.delete(vmName);
      for (const key of [...since.keys()]) if (key.endsWith(`/${vmName}`)) enqueue(key);
      void (async () => {
        const pods = ns
          ? await core.listNamespacedPod({ namespace: ns, labelSelector: LAUNCHER })
          : undefined;
        for (const p of pods?.items ?? [])
          if (vmiOf(p as Pod) === vmName) enqueue(`pod:${ns}/${p.metadata?.name}`);
      })().catch(() => {});
    },
    async idle() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
      await storage?.idle();
    },
    async stop() {
      stopped = true;
      await storage?.stop();
      clearInterval(beat);
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      watches.stop();
      await Promise.allSettled([...inflight]);
    },
  };
}
