/**
 * VMI simulator: plays KubeVirt's virt-controller and CDI's DataVolume controller against a real
 * kube-apiserver that has the real VirtualMachine / VirtualMachineInstance / DataVolume CRDs.
 * There are no nodes, pods or guests: only the objects and statuses those controllers write.
 *
 * Behaviour (level-based: every VM is reconciled from what the API server holds now):
 *  - VirtualMachine with `runStrategy: Always` (or `RerunOnFailure`, or the deprecated
 *    `running: true`): its `dataVolumeTemplates` become DataVolumes (ownerReference → VM), which
 *    go Pending → ImportInProgress → Succeeded after `delays.dataVolume` ms. A DataVolume whose
 *    storage class is in `missingStorageClasses` (default: `missing`) stays Pending with the
 *    condition CDI reports for a claim that cannot bind. Once every DataVolume succeeded, the VM's
 *    VirtualMachineInstance is created (same name, ownerReference → VM, spec = template spec) and
 *    moved Pending → Scheduling → Scheduled (nodeName) → Running (interface IP, Ready /
 *    LiveMigratable / AgentConnected conditions), each step after its configured delay.
 *    The VM's `/status` follows (printableStatus Provisioning / Starting / Running, ready, created).
 *  - `runStrategy: Halted` / `Manual` / `running: false`: the VMI is deleted, VM is Stopped.
 *  - Deleting a VM deletes its VMI and DataVolumes (kube-controller-manager's garbage collector
 *    would too, from the ownerReferences, but only after its resync).
 *  - Failure injection: VM annotation `simulator.virtwork.io/fail` = `Failed` (the VMI reaches
 *    Scheduled then goes Failed; VM CrashLoopBackOff), `Unschedulable` (the VMI stays in
 *    Scheduling with PodScheduled=False/Unschedulable; VM ErrorUnschedulable), `ImagePull` (the
 *    VMI stays in Scheduling; VM ErrImagePull, then ImagePullBackOff, naming the containerDisk
 *    image) or `Quota` (the VMI stays Pending with Synchronized=False/FailedCreate: the
 *    virt-launcher pod is forbidden by an exceeded ResourceQuota). Option `noDefaultStorageClass`
 *    keeps DataVolumes without a class Pending, as in a cluster without a default class.
 *    Readiness: once Running, the guest agent connects after `delays.agent` ms (AgentConnected)
 *    and the readiness probe passes `delays.ready` ms later (VMI Ready=True); `NeverReady` keeps
 *    Ready=False with the probe's failure (the workload's unit is not active). Optional
 *    `simulator.virtwork.io/fail-reason` sets the message. The same can be set per VM name with
 *    the `failures` option or `simulator.setFailure()`.
 *
 * Several simulators may act on the same objects (e.g. `make sandbox` next to a test run): all
 * writes are idempotent merge patches and AlreadyExists is taken as success. The sandbox skips
 * the integration tests' `it-*` namespaces (option `ignoreNamespace`).
 *
 * Every write is sent with `fieldValidation=Strict`, so the simulator's own objects are checked
 * against the real schemas too.
 */
import * as k8s from "@kubernetes/client-node";

export type FailureMode = "Failed" | "Unschedulable" | "ImagePull" | "Quota" | "NeverReady";

export interface PhaseDelays {
  /** ms a new VMI stays Pending before Scheduling */
  scheduling: number;
  /** ms in Scheduling before Scheduled (nodeName set) */
  scheduled: number;
  /** ms in Scheduled before Running (or Failed when failure is injected) */
  running: number;
  /** ms a DataVolume imports before Succeeded */
  dataVolume: number;
  /** ms after Running until the guest agent connects (AgentConnected=True) */
  agent: number;
  /** ms after the agent connected until the readiness probe passes (Ready=True) */
  ready: number;
}

export interface SimulatorOptions {
  /** kubeconfig file (the cluster's simulator.kubeconfig) or a loaded KubeConfig */
  kubeconfig: string | k8s.KubeConfig;
  /** watch only this namespace (tests); all namespaces when omitted (sandbox) */
  namespace?: string;
  delays?: Partial<PhaseDelays>;
  nodeName?: string;
  /** first three octets of the pod network; VMIs get <prefix>.<n> */
  ipPrefix?: string;
  missingStorageClasses?: string[];
  /** namespaces to leave alone when watching all namespaces (the sandbox skips test namespaces) */
  ignoreNamespace?: (namespace: string) => boolean;
  /**
   * DataVolumes that name no storage class stay Pending (Bound=False, "PVC … Pending"), as CDI
   * reports them in a cluster without a default StorageClass
   */
  noDefaultStorageClass?: boolean;
  /** VM name → failure mode (in addition to the VM annotation) */
  failures?: Record<string, FailureMode>;
  log?: (msg: string) => void;
  /** server-side timeout of each watch request (s); must stay below client-node's 30 s inactivity abort */
  watchTimeoutSeconds?: number;
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
  scheduling: 200,
  scheduled: 200,
  running: 300,
  dataVolume: 300,
  agent: 0,
  ready: 0,
};

interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}
interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  ownerReferences?: OwnerRef[];
}
interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string | null;
  lastProbeTime?: string | null;
  lastHeartbeatTime?: string | null;
}
interface DVTemplate {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: {
    storage?: { storageClassName?: string };
    pvc?: { storageClassName?: string };
    [k: string]: unknown;
  };
}
interface VM {
  metadata: Meta;
  spec?: {
    runStrategy?: string;
    running?: boolean;
    template?: {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec?: {
        domain?: { devices?: { interfaces?: { name?: string }[] } };
        networks?: { name?: string }[];
        [k: string]: unknown;
      };
    };
    dataVolumeTemplates?: DVTemplate[];
  };
  status?: Record<string, unknown>;
}
interface VMI {
  metadata: Meta;
  status?: { phase?: string; nodeName?: string; conditions?: Condition[]; [k: string]: unknown };
}
interface DV {
  metadata: Meta;
  spec?: DVTemplate["spec"];
  status?: { phase?: string; conditions?: Condition[]; [k: string]: unknown };
}

const KV = { group: "kubevirt.io", version: "v1" };
const CDI = { group: "cdi.kubevirt.io", version: "v1beta1" };
const MERGE = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);
const STRICT = "Strict";

function httpCode(err: unknown): number | undefined {
  if (err instanceof k8s.ApiException) return err.code;
  return undefined;
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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function wantsRunning(vm: VM): boolean {
  const rs = vm.spec?.runStrategy;
  if (rs !== undefined) return rs === "Always" || rs === "RerunOnFailure";
  return vm.spec?.running === true;
}

/** keeps lastTransitionTime when a condition's status did not change */
function mergeConditions(prev: Condition[] | undefined, next: Condition[], ts: string): Condition[] {
  return next.map((c) => {
    const old = prev?.find((p) => p.type === c.type);
    const same = old && old.status === c.status && old.lastTransitionTime;
    return { ...c, lastTransitionTime: same ? old.lastTransitionTime : ts };
  });
}

const TIMESTAMPS = new Set(["lastTransitionTime", "lastProbeTime", "lastHeartbeatTime"]);

/**
 * canonical JSON of a status for "did anything meaningful change" checks: sorted keys, no
 * condition timestamps, no nulls (a merge patch deletes null fields, so the server never
 * returns them)
 */
function statusKey(v: unknown): string {
  return (
    JSON.stringify(v, (k, val) => {
      if (val === null || TIMESTAMPS.has(k)) return undefined;
      if (val && typeof val === "object" && !Array.isArray(val)) {
        return Object.fromEntries(
          Object.entries(val as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        );
      }
      return val;
    }) ?? ""
  );
}

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const kc = typeof opts.kubeconfig === "string" ? new k8s.KubeConfig() : opts.kubeconfig;
  if (typeof opts.kubeconfig === "string") kc.loadFromFile(opts.kubeconfig);
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  const watcher = new k8s.Watch(kc);
  const delays: PhaseDelays = { ...DEFAULT_DELAYS, ...opts.delays };
  const nodeName = opts.nodeName ?? "sim-node-1";
  const ipPrefix = opts.ipPrefix ?? "10.128.0";
  const missing = new Set(opts.missingStorageClasses ?? ["missing"]);
  const failures = new Map<string, FailureMode>(Object.entries(opts.failures ?? {}));
  const log = opts.log ?? (() => {});
  const ns = opts.namespace;

  let stopped = false;
  let errors = 0;
  let watchRestarts = 0;
  const aborts = new Set<AbortController>();
  const timers = new Map<string, NodeJS.Timeout>();
  const chains = new Map<string, Promise<void>>();
  const inflight = new Set<Promise<void>>();
  const retries = new Map<string, number>();
  /** key → when the VMI/DV entered its current simulated phase (ms) */
  const since = new Map<string, number>();
  /** last VM seen per key, so a deletion can clean up what the VM owned */
  const lastSeen = new Map<string, VM>();

  const vmPath = (n?: string) => (n ? `/apis/kubevirt.io/v1/namespaces/${n}` : "/apis/kubevirt.io/v1");

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

  function enqueue(key: string): void {
    if (stopped) return;
    if (opts.ignoreNamespace?.(key.split("/")[0] ?? "")) return;
    const prev = chains.get(key) ?? Promise.resolve();
    const next = prev.then(async () => {
      if (stopped) return;
      try {
        await reconcile(key);
        retries.delete(key);
      } catch (err) {
        if (stopped) return;
        errors++;
        const n = (retries.get(key) ?? 0) + 1;
        retries.set(key, n);
        const code = httpCode(err);
        log(`reconcile ${key} failed (${code ?? (err as Error).message}); retry ${n}`);
        if (code === 403 && /being terminated/.test(String((err as k8s.ApiException<unknown>).body))) return;
        schedule(key, Math.min(5000, 100 * 2 ** n));
      }
    });
    chains.set(key, next);
    inflight.add(next);
    void next.finally(() => {
      inflight.delete(next);
      if (chains.get(key) === next) chains.delete(key);
    });
  }

  function failureOf(vm: VM): { mode: FailureMode; message: string } | undefined {
    const a = vm.metadata.annotations?.[FAIL_ANNOTATION];
    const byAnnotation: Record<string, FailureMode> = {
      unschedulable: "Unschedulable",
      imagepull: "ImagePull",
      quota: "Quota",
      neverready: "NeverReady",
    };
    const mode =
      failures.get(vm.metadata.name) ?? (a ? (byAnnotation[a.toLowerCase()] ?? "Failed") : undefined);
    if (!mode) return undefined;
    const image =
      (vm.spec?.template?.spec?.volumes as { containerDisk?: { image?: string } }[] | undefined)?.find(
        (v) => v.containerDisk?.image,
      )?.containerDisk?.image ?? "quay.io/containerdisks/fedora:latest";
    const probeCommand = (
      vm.spec?.template?.spec?.readinessProbe as { exec?: { command?: string[] } } | undefined
    )?.exec?.command;
    const defaults: Record<FailureMode, string> = {
      Unschedulable:
        "0/1 nodes are available: 1 Insufficient devices.kubevirt.io/kvm. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
      Failed:
        "server error. command SyncVMI failed: \"LibvirtError(Code=1, Domain=10, Message='internal error: qemu unexpectedly closed the monitor')\"",
      ImagePull: `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": not found`,
      // The VM's own probe command when it has one (virtwork plans an exec probe per VM).
      NeverReady: `readiness probe failed: ${probeCommand?.join(" ") ?? "systemctl is-active --quiet virtwork-workload.service"}: exit status 3`,
      Quota: `failed to create virtual machine pod: pods "virt-launcher-${vm.metadata.name}-x7k2p" is forbidden: exceeded quota: virtwork-quota, requested: requests.memory=2Gi, used: requests.memory=6Gi, limited: requests.memory=6Gi`,
    };
    return { mode, message: vm.metadata.annotations?.[FAIL_REASON_ANNOTATION] ?? defaults[mode] };
  }

  async function get<T>(
    g: typeof KV,
    plural: string,
    namespace: string,
    name: string,
  ): Promise<T | undefined> {
    try {
      return (await api.getNamespacedCustomObject({ ...g, namespace, plural, name })) as T;
    } catch (err) {
      if (httpCode(err) === 404) return undefined;
      throw err;
    }
  }

  /** create; AlreadyExists (another actor was first) returns the existing object */
  async function createOrGet<T>(
    g: typeof KV,
    plural: string,
    namespace: string,
    body: { metadata: { name: string } },
  ): Promise<T> {
    try {
      return (await api.createNamespacedCustomObject({
        ...g,
        namespace,
        plural,
        body,
        fieldValidation: STRICT,
      })) as T;
    } catch (err) {
      if (httpCode(err) !== 409) throw err;
      const cur = await get<T>(g, plural, namespace, body.metadata.name);
      if (!cur) throw err;
      return cur;
    }
  }

  async function del(g: typeof KV, plural: string, namespace: string, name: string, ownerUid?: string) {
    if (ownerUid) {
      const cur = await get<{ metadata: Meta }>(g, plural, namespace, name);
      if (!cur?.metadata.ownerReferences?.some((o) => o.uid === ownerUid)) return;
    }
    try {
      await api.deleteNamespacedCustomObject({
        ...g,
        namespace,
        plural,
        name,
        propagationPolicy: "Background",
      });
      log(`deleted ${plural} ${namespace}/${name}`);
    } catch (err) {
      if (httpCode(err) !== 404) throw err;
    }
  }

  function ownerRef(vm: VM): OwnerRef {
    return {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachine",
      name: vm.metadata.name,
      uid: vm.metadata.uid ?? "",
      controller: true,
      blockOwnerDeletion: true,
    };
  }

  async function cleanupOwned(vm: VM): Promise<void> {
    const namespace = vm.metadata.namespace ?? "";
    await del(KV, "virtualmachineinstances", namespace, vm.metadata.name, vm.metadata.uid);
    for (const t of vm.spec?.dataVolumeTemplates ?? []) {
      if (t.metadata?.name) await del(CDI, "datavolumes", namespace, t.metadata.name, vm.metadata.uid);
    }
  }

  /** ensures the DataVolumes exist and advances them; returns whether all succeeded, the first pending problem */
  async function reconcileDataVolumes(vm: VM, key: string): Promise<{ ready: boolean; wait?: number }> {
    const namespace = vm.metadata.namespace ?? "";
    let ready = true;
    let wait: number | undefined;
    for (const t of vm.spec?.dataVolumeTemplates ?? []) {
      const name = t.metadata?.name;
      if (!name) continue;
      const dvKey = `dv:${namespace}/${name}`;
      let dv = await get<DV>(CDI, "datavolumes", namespace, name);
      if (!dv) {
        const body = {
          apiVersion: "cdi.kubevirt.io/v1beta1",
          kind: "DataVolume",
          metadata: {
            name,
            namespace,
            labels: { ...t.metadata?.labels, "kubevirt.io/created-by": vm.metadata.uid ?? "" },
            ...(t.metadata?.annotations ? { annotations: t.metadata.annotations } : {}),
            ownerReferences: [ownerRef(vm)],
          },
          spec: t.spec ?? {},
        };
        dv = await createOrGet<DV>(CDI, "datavolumes", namespace, body);
        since.set(dvKey, Date.now());
        log(`created DataVolume ${namespace}/${name}`);
      }
      if (dv.metadata.deletionTimestamp) {
        ready = false;
        continue;
      }
      const sc = dv.spec?.storage?.storageClassName ?? dv.spec?.pvc?.storageClassName;
      const phase = dv.status?.phase;
      const ts = nowIso();
      let status: Record<string, unknown>;
      if ((sc !== undefined && missing.has(sc)) || (sc === undefined && opts.noDefaultStorageClass)) {
        ready = false;
        status = {
          phase: "Pending",
          progress: "N/A",
          claimName: name,
          conditions: mergeConditions(
            dv.status?.conditions,
            [
              {
                type: "Bound",
                status: "False",
                reason: "Pending",
                // CDI's words: a claim on a class that does not exist says so; one without a
                // class, in a cluster without a default class, only says Pending.
                message:
                  sc === undefined
                    ? `PVC ${name} Pending`
                    : `PVC ${name} Pending; storageclass.storage.k8s.io "${sc}" not found`,
              },
              { type: "Ready", status: "False", reason: "Pending", message: "" },
              { type: "Running", status: "False", reason: "Pending", message: "" },
            ],
            ts,
          ),
        };
      } else if (phase === "Succeeded") {
        continue;
      } else {
        const start = since.get(dvKey) ?? Date.now();
        if (!since.has(dvKey)) since.set(dvKey, start);
        const left = start + delays.dataVolume - Date.now();
        if (left > 0) {
          ready = false;
          wait = Math.min(wait ?? left, left);
          status = {
            phase: "ImportInProgress",
            progress: "42.00%",
            claimName: name,
            conditions: mergeConditions(
              dv.status?.conditions,
              [
                { type: "Bound", status: "True", reason: "Bound", message: `PVC ${name} Bound` },
                { type: "Ready", status: "False", reason: "TransferRunning", message: "" },
                { type: "Running", status: "True", reason: "Pod is running", message: "" },
              ],
              ts,
            ),
          };
        } else {
          status = {
            phase: "Succeeded",
            progress: "100.0%",
            claimName: name,
            conditions: mergeConditions(
              dv.status?.conditions,
              [
                { type: "Bound", status: "True", reason: "Bound", message: `PVC ${name} Bound` },
                { type: "Ready", status: "True", reason: "", message: "" },
                { type: "Running", status: "False", reason: "Completed", message: "Import Complete" },
              ],
              ts,
            ),
          };
        }
      }
      if (statusKey(status) !== statusKey(dv.status)) {
        await api.patchNamespacedCustomObjectStatus(
          { ...CDI, namespace, plural: "datavolumes", name, body: { status }, fieldValidation: STRICT },
          MERGE,
        );
        log(`DataVolume ${namespace}/${name} → ${String(status.phase)}`);
      }
      if (status.phase !== "Succeeded") ready = false;
    }
    void key;
    return wait === undefined ? { ready } : { ready, wait };
  }

  async function setVMStatus(
    vm: VM,
    printable: string,
    ready: boolean,
    created: boolean,
    reason?: string,
    message?: string,
  ) {
    const namespace = vm.metadata.namespace ?? "";
    const prev = vm.status as { conditions?: Condition[] } | undefined;
    const ts = nowIso();
    const status: Record<string, unknown> = {
      printableStatus: printable,
      created,
      ready,
      ...(vm.spec?.runStrategy ? { runStrategy: vm.spec.runStrategy } : {}),
      ...(vm.metadata.generation !== undefined
        ? { observedGeneration: vm.metadata.generation, desiredGeneration: vm.metadata.generation }
        : {}),
      conditions: mergeConditions(
        prev?.conditions,
        [
          ready
            ? { type: "Ready", status: "True", reason: "", message: "", lastProbeTime: null }
            : {
                type: "Ready",
                status: "False",
                reason: reason ?? (created ? "GuestNotRunning" : "VMINotExists"),
                message: reason
                  ? (message ?? printable)
                  : created
                    ? "Guest VM is not reported as running"
                    : "VMI does not exist",
                lastProbeTime: null,
              },
        ],
        ts,
      ),
    };
    if (statusKey(status) === statusKey(vm.status)) return;
    await api.patchNamespacedCustomObjectStatus(
      {
        ...KV,
        namespace,
        plural: "virtualmachines",
        name: vm.metadata.name,
        body: { status },
        fieldValidation: STRICT,
      },
      MERGE,
    );
    log(`VirtualMachine ${namespace}/${vm.metadata.name} → ${printable}`);
  }

  function vmiStatus(
    vm: VM,
    phase: string,
    failure: { mode: FailureMode; message: string } | undefined,
    prev?: VMI,
    runningForMs = 0,
  ) {
    const namespace = vm.metadata.namespace ?? "";
    const name = vm.metadata.name;
    const ts = nowIso();
    const h = hash(`${namespace}/${name}`);
    const transitions = [...((prev?.status?.phaseTransitionTimestamps as unknown[]) ?? [])] as {
      phase: string;
      phaseTransitionTimestamp: string;
    }[];
    if (transitions.at(-1)?.phase !== phase) transitions.push({ phase, phaseTransitionTimestamp: ts });
    const ifName =
      vm.spec?.template?.spec?.domain?.devices?.interfaces?.[0]?.name ??
      vm.spec?.template?.spec?.networks?.[0]?.name ??
      "default";
    const ip = `${ipPrefix}.${(h % 250) + 2}`;
    const mac = `02:${[1, 2, 3, 4, 5].map((i) => ((h >>> (i * 5)) & 0xff).toString(16).padStart(2, "0")).join(":")}`;
    const onNode = phase === "Scheduled" || phase === "Running" || phase === "Failed";
    const base: Record<string, unknown> = {
      phase,
      phaseTransitionTimestamps: transitions,
      guestOSInfo: {},
      qosClass: "Burstable",
      launcherContainerImageVersion: "quay.io/kubevirt/virt-launcher:v1.8.4",
      runtimeUser: 107,
      virtualMachineRevisionName: `revision-start-vm-${vm.metadata.uid ?? ""}-${vm.metadata.generation ?? 1}`,
    };
    let conditions: Condition[];
    if (phase === "Running") {
      // The guest agent connects after `agent` ms, the readiness probe (run through it) passes
      // `ready` ms later — never in the NeverReady mode.
      const agent = runningForMs >= delays.agent;
      const ready = agent && runningForMs >= delays.agent + delays.ready && failure?.mode !== "NeverReady";
      conditions = [
        ready
          ? { type: "Ready", status: "True", lastProbeTime: null }
          : {
              type: "Ready",
              status: "False",
              reason: "GuestNotReady",
              message: agent
                ? (failure?.message ?? "readiness probe failed: inactive")
                : "guest agent not connected",
              lastProbeTime: null,
            },
        { type: "LiveMigratable", status: "True", lastProbeTime: null },
        ...(agent ? [{ type: "AgentConnected", status: "True", lastProbeTime: null }] : []),
      ];
      Object.assign(base, {
        nodeName,
        interfaces: [
          {
            name: ifName,
            interfaceName: "eth0",
            ipAddress: ip,
            ipAddresses: [ip],
            mac,
            infoSource: "domain, guest-agent",
            queueCount: 1,
          },
        ],
        migrationMethod: "BlockMigration",
        migrationTransport: "Unix",
        guestOSInfo: { id: "fedora", name: "Fedora Linux", prettyName: "Fedora Linux 41 (Cloud Edition)" },
      });
    } else if (phase === "Failed") {
      conditions = [
        {
          type: "Ready",
          status: "False",
          reason: "PodTerminating",
          message: failure?.message ?? "virt-launcher pod is terminating",
          lastProbeTime: null,
        },
      ];
      Object.assign(base, { nodeName, reason: failure?.message ?? "" });
    } else if (phase === "Pending" && failure?.mode === "Quota") {
      conditions = [
        {
          type: "Ready",
          status: "False",
          reason: "GuestNotRunning",
          message: "Guest VM is not reported as running",
          lastProbeTime: null,
        },
        {
          type: "Synchronized",
          status: "False",
          reason: "FailedCreate",
          message: failure.message,
          lastProbeTime: null,
        },
      ];
    } else if (phase === "Scheduling" && failure?.mode === "Unschedulable") {
      conditions = [
        {
          type: "Ready",
          status: "False",
          reason: "GuestNotRunning",
          message: "Guest VM is not reported as running",
          lastProbeTime: null,
        },
        {
          type: "PodScheduled",
          status: "False",
          reason: "Unschedulable",
          message: failure.message,
          lastProbeTime: null,
        },
      ];
    } else {
      conditions = [
        {
          type: "Ready",
          status: "False",
          reason: "GuestNotRunning",
          message: "Guest VM is not reported as running",
          lastProbeTime: null,
        },
      ];
      if (onNode) base.nodeName = nodeName;
    }
    base.conditions = mergeConditions(prev?.status?.conditions, conditions, ts);
    return base;
  }

  const NEXT: Record<string, [string, keyof PhaseDelays]> = {
    Pending: ["Scheduling", "scheduling"],
    Scheduling: ["Scheduled", "scheduled"],
    Scheduled: ["Running", "running"],
  };

  async function reconcile(key: string): Promise<void> {
    const [namespace = "", name = ""] = key.split("/");
    const vm = await get<VM>(KV, "virtualmachines", namespace, name);
    if (!vm || vm.metadata.deletionTimestamp) {
      const old = vm ?? lastSeen.get(key);
      if (old) await cleanupOwned(old);
      if (!vm) lastSeen.delete(key);
      since.delete(`vmi:${key}`);
      return;
    }
    lastSeen.set(key, vm);
    const vmiKey = `vmi:${key}`;
    let vmi = await get<VMI>(KV, "virtualmachineinstances", namespace, name);
    if (!wantsRunning(vm)) {
      if (vmi && !vmi.metadata.deletionTimestamp) await del(KV, "virtualmachineinstances", namespace, name);
      since.delete(vmiKey);
      await setVMStatus(vm, vmi ? "Stopping" : "Stopped", false, !!vmi);
      if (vmi) schedule(key, 500);
      return;
    }
    const dvs = await reconcileDataVolumes(vm, key);
    if (!dvs.ready) {
      if (!vmi) await setVMStatus(vm, "Provisioning", false, false);
      if (dvs.wait !== undefined) schedule(key, dvs.wait);
      return;
    }
    const failure = failureOf(vm);
    if (vmi?.metadata.deletionTimestamp) {
      schedule(key, 500);
      return;
    }
    if (!vmi) {
      const tmpl = vm.spec?.template ?? {};
      const body = {
        apiVersion: "kubevirt.io/v1",
        kind: "VirtualMachineInstance",
        metadata: {
          name,
          namespace,
          labels: { ...tmpl.metadata?.labels },
          annotations: {
            ...tmpl.metadata?.annotations,
            "kubevirt.io/latest-observed-api-version": "v1",
            "kubevirt.io/storage-observed-api-version": "v1",
          },
          ownerReferences: [ownerRef(vm)],
        },
        spec: tmpl.spec ?? {},
        status: vmiStatus(vm, "Pending", failure),
      };
      vmi = await createOrGet<VMI>(KV, "virtualmachineinstances", namespace, body);
      since.set(vmiKey, Date.now());
      log(`created VirtualMachineInstance ${key} → Pending`);
    }
    const phase = vmi.status?.phase ?? "Pending";
    if (!since.has(vmiKey)) since.set(vmiKey, Date.now());
    const step = NEXT[phase];
    let target = phase;
    if (step) {
      const [next, delayName] = step;
      const stuck =
        (phase === "Scheduling" && (failure?.mode === "Unschedulable" || failure?.mode === "ImagePull")) ||
        (phase === "Pending" && failure?.mode === "Quota");
      const left = (since.get(vmiKey) ?? 0) + delays[delayName] - Date.now();
      if (!stuck && left <= 0) {
        target = phase === "Scheduled" && failure?.mode === "Failed" ? "Failed" : next;
      } else if (!stuck) {
        schedule(key, left);
      }
    }
    // Running: come back when the agent connects and when the probe passes.
    const runningFor = phase === "Running" ? Date.now() - (since.get(vmiKey) ?? Date.now()) : 0;
    const nextStep = (t: number) => [delays.agent, delays.agent + delays.ready].find((d) => d > t);
    if (target === "Running" && phase === "Running") {
      const next = nextStep(runningFor);
      if (next !== undefined) schedule(key, next - runningFor + 5);
    }
    const desired = vmiStatus(vm, target, failure, vmi, runningFor);
    if (statusKey(desired) !== statusKey(vmi.status)) {
      const labels =
        target === "Pending" || target === "Scheduling" ? undefined : { "kubevirt.io/nodeName": nodeName };
      const sent = Date.now();
      await api.patchNamespacedCustomObject(
        {
          ...KV,
          namespace,
          plural: "virtualmachineinstances",
          name,
          body: { ...(labels ? { metadata: { labels } } : {}), status: desired },
          fieldValidation: STRICT,
        },
        MERGE,
      );
      if (target !== phase) {
        since.set(vmiKey, Date.now());
        // "sent": when the phase was handed to the API server; nobody can observe it earlier
        // (the cluster benchmark measures detection lag from it).
        log(`VirtualMachineInstance ${key} → ${target} (sent ${new Date(sent).toISOString()})`);
        const after = NEXT[target];
        if (after) schedule(key, delays[after[1]]);
        else if (target === "Running") {
          const next = nextStep(0);
          if (next !== undefined) schedule(key, next + 5);
        }
      }
    }
    switch (target) {
      case "Running":
        await setVMStatus(vm, "Running", true, true);
        break;
      case "Failed":
        await setVMStatus(vm, "CrashLoopBackOff", false, true, "CrashLoopBackOff", failure?.message);
        break;
      case "Scheduling":
        if (failure?.mode === "Unschedulable") {
          await setVMStatus(vm, "ErrorUnschedulable", false, true, "Unschedulable");
          break;
        }
        if (failure?.mode === "ImagePull") {
          // kubelet: ErrImagePull on the first failed pull, ImagePullBackOff while it backs off.
          const first = Date.now() - (since.get(vmiKey) ?? 0) < 1000;
          if (first) schedule(key, 1000);
          await setVMStatus(
            vm,
            first ? "ErrImagePull" : "ImagePullBackOff",
            false,
            true,
            first ? "ErrImagePull" : "ImagePullBackOff",
            first ? failure.message : `Back-off pulling image: ${failure.message}`,
          );
          break;
        }
        await setVMStatus(vm, "Starting", false, true);
        break;
      default:
        await setVMStatus(vm, "Starting", false, true);
    }
  }

  /**
   * list, then watch from the list's resourceVersion; a watch that ends normally (server-side
   * timeout) resumes from the last resourceVersion seen, a 410 Gone re-lists. The server closes
   * each watch after 20 s, before client-node's 30 s inactivity timeout would abort it.
   */
  async function watchLoop(
    plural: string,
    onEvent: (type: string, obj: { metadata: Meta }) => void,
  ): Promise<void> {
    while (!stopped) {
      try {
        const list = (await (ns
          ? api.listNamespacedCustomObject({ ...KV, namespace: ns, plural })
          : api.listClusterCustomObject({ ...KV, plural }))) as {
          metadata: { resourceVersion: string };
          items: { metadata: Meta }[];
        };
        for (const item of list.items) onEvent("ADDED", item);
        let rv = list.metadata.resourceVersion;
        let gone = false;
        while (!stopped && !gone) {
          await new Promise<void>((resolve, reject) => {
            let ac: AbortController | undefined;
            watcher
              .watch(
                `${vmPath(ns)}/${plural}`,
                {
                  resourceVersion: rv,
                  allowWatchBookmarks: true,
                  timeoutSeconds: opts.watchTimeoutSeconds ?? 20,
                },
                (type, obj: { metadata: Meta; code?: number }) => {
                  if (type === "ERROR") {
                    gone = true;
                    return;
                  }
                  if (obj.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
                  if (type !== "BOOKMARK") onEvent(type, obj);
                },
                (err) => {
                  if (ac) aborts.delete(ac);
                  watchRestarts++;
                  if (err && !stopped && (err as Error).name !== "TimeoutError") reject(err);
                  else resolve();
                },
              )
              .then((c) => {
                ac = c;
                if (stopped) c.abort();
                else aborts.add(c);
              }, reject);
          });
        }
      } catch (err) {
        if (stopped) return;
        log(`watch ${plural} failed: ${(err as Error).message ?? err}; re-listing`);
        await sleep(500);
      }
    }
  }

  const keyOf = (m: Meta) => `${m.namespace ?? ""}/${m.name}`;
  void watchLoop("virtualmachines", (type, obj) => {
    const key = keyOf(obj.metadata);
    if (type === "DELETED") lastSeen.set(key, obj as VM);
    enqueue(key);
  });
  void watchLoop("virtualmachineinstances", (type, obj) => {
    const owner = obj.metadata.ownerReferences?.find((o) => o.kind === "VirtualMachine" && o.controller);
    if (owner && type === "DELETED") enqueue(`${obj.metadata.namespace ?? ""}/${owner.name}`);
  });

  return {
    get watchRestarts() {
      return watchRestarts;
    },
    get errors() {
      return errors;
    },
    setFailure(vmName, mode) {
      if (mode) failures.set(vmName, mode);
      else failures.delete(vmName);
      for (const key of lastSeen.keys()) if (key.endsWith(`/${vmName}`)) enqueue(key);
    },
    async idle() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      for (const ac of aborts) ac.abort();
      aborts.clear();
      await Promise.allSettled([...inflight]);
    },
  };
}
