/**
 * Sandbox storage: the part of a DataVolume's life that cannot run in the local test cluster.
 *
 * CDI's real cdi-controller runs there (test/cluster/start-cdi.sh): it turns each DataVolume into
 * a PVC, waits for it to bind, creates its importer pod, reads the pod's phase and termination
 * message, and writes the DataVolume's phase, progress and conditions itself. What it waits for
 * is done by machinery this cluster has no room for, and only that is simulated here:
 *
 *  (a) the external provisioner of StorageClass `standard` (provisioner
 *      `sandbox.virtwork.io/provisioner`; a CSI provisioner sidecar in a real cluster): for a PVC of
 *      that class it creates a PV (`pvc-<uid>`, hostPath that nothing mounts, claimRef to the PVC)
 *      and, once the PVC is gone (or the binder marked the PV Released), deletes the PV
 *      (reclaimPolicy Delete). Binding PV and PVC is
 *      kube-controller-manager's PV binder, which start-cdi.sh runs (kcm-storage); when the PVC
 *      is still not Bound 1 s after its PV exists (no binder running) this module binds it the way
 *      the binder does (PVC volumeName + bind annotations, PVC and PV status Bound).
 *      A PVC naming a class that does not exist, or a class of another provisioner, is not
 *      touched: it stays Pending and CDI reports what it reports.
 *  (b) the kubelet, for CDI's importer pods only (labels app=containerized-data-importer,
 *      cdi.kubevirt.io=importer): there are no nodes or container runtime. A pod left without a
 *      nodeName for 1 s (no scheduler) is bound to `nodeName` through pods/binding; then it goes
 *      Running, and after `importDelayMs` Succeeded with its container terminated (exit 0) and the
 *      termination message CDI's importer (cmd/cdi-importer) writes on success:
 *      `{"preallocationApplied":false,"message":"Import Complete"}` for a blank disk
 *      (`scratchSpaceRequired` too for a real source; nothing for a blank Block volume without
 *      preallocation). A deleted pod that is not terminal is removed with grace period 0, as the
 *      kubelet does once its containers stopped.
 *
 * Everything else (PVC spec and annotations, pod spec, DataVolume status, ownerReferences) is
 * CDI's own doing. All writes use merge patches and fieldValidation=Strict; AlreadyExists and
 * NotFound are taken as "someone else did it".
 */
import * as k8s from "@kubernetes/client-node";
import { type Listed, watchLoops } from "./watch.ts";

export const SANDBOX_STORAGE_CLASS = "standard";
export const SANDBOX_PROVISIONER = "sandbox.virtwork.io/provisioner";

export interface StorageOptions {
  /** kubeconfig file (the cluster's simulator.kubeconfig) or a loaded KubeConfig */
  kubeconfig: string | k8s.KubeConfig;
  /** act on one namespace only (default: all) */
  namespace?: string;
  log?: (m: string) => void;
  /** namespaces to leave alone when watching all of them */
  ignoreNamespace?: (ns: string) => boolean;
  /** ms an importer pod runs before it succeeds (default 500) */
  importDelayMs?: number;
  /** node importer pods are bound to when nothing schedules them (default sim-node-1) */
  nodeName?: string;
}

export interface Storage {
  stop(): Promise<void>;
  /** resolves once no reconcile is running (timers for later steps may still be pending) */
  idle(): Promise<void>;
}

interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
}

const MERGE = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);
const STRICT = "Strict";
const BIND_FALLBACK_MS = 1000;
const SCHEDULE_FALLBACK_MS = 1000;

function httpCode(err: unknown): number | undefined {
  return err instanceof k8s.ApiException ? err.code : undefined;
}

function nowIso(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** the termination message cmd/cdi-importer writes when it finished (see the header) */
export function importerTerminationMessage(pod: k8s.V1Pod): string {
  const c = pod.spec?.containers?.[0];
  const env = (n: string) => c?.env?.find((e) => e.name === n)?.value;
  const preallocation = env("PREALLOCATION") === "true";
  const block = (c?.volumeDevices?.length ?? 0) > 0;
  if (env("IMPORTER_SOURCE") === "none") {
    if (block && !preallocation) return ""; // "exactly an empty PVC": the importer writes nothing
    return JSON.stringify({ preallocationApplied: preallocation, message: "Import Complete" });
  }
  return JSON.stringify({
    scratchSpaceRequired: false,
    preallocationApplied: preallocation,
    message: "Import Complete",
  });
}

export async function startStorage(opts: StorageOptions): Promise<Storage> {
  const kc = typeof opts.kubeconfig === "string" ? new k8s.KubeConfig() : opts.kubeconfig;
  if (typeof opts.kubeconfig === "string") kc.loadFromFile(opts.kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const storage = kc.makeApiClient(k8s.StorageV1Api);
  const log = opts.log ?? (() => {});
  const ns = opts.namespace;
  const importDelayMs = opts.importDelayMs ?? 500;
  const nodeName = opts.nodeName ?? "sim-node-1";

  let stopped = false;
  const timers = new Map<string, NodeJS.Timeout>();
  const chains = new Map<string, Promise<void>>();
  const inflight = new Set<Promise<void>>();
  /** key → ms when first seen in a state we wait on (unscheduled pod, unbound PVC with PV) */
  const since = new Map<string, number>();
  /** pod key → ms when it went Running */
  const runningSince = new Map<string, number>();
  const classes = new Map<string, { provisioner: string; reclaim?: string; at: number }>();

  function later(key: string, ms: number): void {
    if (stopped) return;
    const old = timers.get(key);
    if (old) clearTimeout(old);
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        enqueue(key);
      }, ms),
    );
  }

  /** one reconcile per key at a time, chained; errors are logged and retried */
  function enqueue(key: string): void {
    if (stopped) return;
    const prev = chains.get(key) ?? Promise.resolve();
    const next = prev.then(async () => {
      if (stopped) return;
      try {
        if (key.startsWith("pvc:")) await reconcilePvc(key);
        else if (key.startsWith("pod:")) await reconcilePod(key);
      } catch (err) {
        if (stopped) return;
        log(`${key}: ${(err as Error).message ?? err}; retrying`);
        later(key, 500);
      }
    });
    chains.set(key, next);
    inflight.add(next);
    void next.finally(() => {
      inflight.delete(next);
      if (chains.get(key) === next) chains.delete(key);
    });
  }

  async function storageClass(name: string) {
    const hit = classes.get(name);
    if (hit && Date.now() - hit.at < 5000) return hit;
    try {
      const sc = await storage.readStorageClass({ name });
      const v = { provisioner: sc.provisioner, reclaim: sc.reclaimPolicy, at: Date.now() };
      classes.set(name, v);
      return v;
    } catch (err) {
      if (httpCode(err) === 404) return undefined;
      throw err;
    }
  }

  // --- (a) provisioner (+ binder fallback) ---------------------------------------------------
  async function reconcilePvc(key: string): Promise<void> {
    const [, namespace = "", name = ""] = key.split(":");
    let pvc: k8s.V1PersistentVolumeClaim;
    try {
      pvc = await core.readNamespacedPersistentVolumeClaim({ name, namespace });
    } catch (err) {
      if (httpCode(err) === 404) return void since.delete(key);
      throw err;
    }
    if (pvc.metadata?.deletionTimestamp || pvc.status?.phase === "Bound") return void since.delete(key);
    const className = pvc.spec?.storageClassName;
    if (!className) return;
    const sc = await storageClass(className);
    if (!sc || sc.provisioner !== SANDBOX_PROVISIONER) return; // not ours: stays Pending untouched
    const uid = pvc.metadata?.uid ?? "";
    const pvName = `pvc-${uid}`;
    const size = pvc.spec?.resources?.requests?.storage ?? "1Gi";
    const volumeMode = pvc.spec?.volumeMode ?? "Filesystem";
    try {
      await core.createPersistentVolume({
        body: {
          apiVersion: "v1",
          kind: "PersistentVolume",
          metadata: { name: pvName, annotations: { "pv.kubernetes.io/provisioned-by": SANDBOX_PROVISIONER } },
          spec: {
            capacity: { storage: size },
            accessModes: pvc.spec?.accessModes ?? ["ReadWriteOnce"],
            volumeMode,
            storageClassName: className,
            persistentVolumeReclaimPolicy: sc.reclaim ?? "Delete",
            claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace, name, uid },
            hostPath: { path: `/var/lib/virtwork-sandbox/${pvName}` },
          },
        },
        fieldValidation: STRICT,
      });
      log(`provisioned PV ${pvName} (${size}, ${volumeMode}) for PVC ${namespace}/${name}`);
    } catch (err) {
      if (httpCode(err) !== 409) throw err;
    }
    const first = since.get(key) ?? Date.now();
    since.set(key, first);
    const wait = first + BIND_FALLBACK_MS - Date.now();
    if (wait > 0) return later(key, wait + 10); // the PV binder normally binds before that
    // No binder bound it: do what kube-controller-manager's PV controller does.
    await core.patchNamespacedPersistentVolumeClaim(
      {
        name,
        namespace,
        body: {
          metadata: {
            annotations: {
              "pv.kubernetes.io/bind-completed": "yes",
              "pv.kubernetes.io/bound-by-controller": "yes",
            },
          },
          spec: { volumeName: pvName },
        },
        fieldValidation: STRICT,
      },
      MERGE,
    );
    await core.patchPersistentVolumeStatus({ name: pvName, body: { status: { phase: "Bound" } } }, MERGE);
    await core.patchNamespacedPersistentVolumeClaimStatus(
      {
        name,
        namespace,
        body: {
          status: {
            phase: "Bound",
            accessModes: pvc.spec?.accessModes ?? ["ReadWriteOnce"],
            capacity: { storage: size },
          },
        },
        fieldValidation: STRICT,
      },
      MERGE,
    );
    since.delete(key);
    log(`bound PVC ${namespace}/${name} to ${pvName} (no PV binder did)`);
  }

  /** reclaimPolicy Delete: the provisioner deletes the PV of a PVC that is gone */
  async function releasePv(pvc: k8s.V1PersistentVolumeClaim): Promise<void> {
    const pvName = pvc.spec?.volumeName || `pvc-${pvc.metadata?.uid}`;
    try {
      const pv = await core.readPersistentVolume({ name: pvName });
      if (pv.metadata?.annotations?.["pv.kubernetes.io/provisioned-by"] !== SANDBOX_PROVISIONER) return;
      if (pv.spec?.claimRef?.uid !== pvc.metadata?.uid || pv.spec?.persistentVolumeReclaimPolicy !== "Delete")
        return;
      await core.deletePersistentVolume({ name: pvName });
      log(`deleted PV ${pvName} (its PVC ${pvc.metadata?.namespace}/${pvc.metadata?.name} is gone)`);
    } catch (err) {
      if (httpCode(err) !== 404) throw err;
    }
  }

  // --- (b) kubelet for CDI's importer pods ---------------------------------------------------
  async function reconcilePod(key: string): Promise<void> {
    const [, namespace = "", name = ""] = key.split(":");
    let pod: k8s.V1Pod;
    try {
      pod = await core.readNamespacedPod({ name, namespace });
    } catch (err) {
      if (httpCode(err) === 404) {
        since.delete(key);
        runningSince.delete(key);
        return;
      }
      throw err;
    }
    const phase = pod.status?.phase ?? "Pending";
    const terminal = phase === "Succeeded" || phase === "Failed";
    if (pod.metadata?.deletionTimestamp) {
      if (!terminal) {
        // the kubelet stopped the containers: the pod object goes
        await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).catch((err) => {
          if (httpCode(err) !== 404) throw err;
        });
        log(`pod ${namespace}/${name} deleted (grace 0, as the kubelet confirms)`);
      }
      return;
    }
    if (terminal) return;
    if (!pod.spec?.nodeName) {
      const first = since.get(key) ?? Date.now();
      since.set(key, first);
      const wait = first + SCHEDULE_FALLBACK_MS - Date.now();
      if (wait > 0) return later(key, wait + 10); // a scheduler may bind it first
      try {
        await core.createNamespacedPodBinding({
          name,
          namespace,
          body: {
            apiVersion: "v1",
            kind: "Binding",
            metadata: { name, namespace },
            target: { apiVersion: "v1", kind: "Node", name: nodeName },
          },
        });
        log(`bound pod ${namespace}/${name} to ${nodeName}`);
      } catch (err) {
        if (httpCode(err) !== 409) throw err; // 409: already bound by someone else
      }
      since.delete(key);
      return later(key, 0);
    }
    since.delete(key);
    const container = pod.spec.containers[0] ?? { name: "importer" };
    const startedAt = pod.status?.startTime ? new Date(pod.status.startTime).toISOString() : nowIso();
    const containerID = `containerd://${(pod.metadata?.uid ?? "").replaceAll("-", "")}`;
    const base = {
      name: container.name,
      image: container.image ?? "",
      imageID: container.image ?? "",
      containerID,
      restartCount: 0,
    };
    if (phase !== "Running") {
      await core.patchNamespacedPodStatus(
        {
          name,
          namespace,
          body: {
            status: {
              phase: "Running",
              hostIP: "127.0.0.1",
              podIP: "10.244.0.2",
              startTime: nowIso(),
              conditions: ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map((type) => ({
                type,
                status: "True",
                lastTransitionTime: nowIso(),
              })),
              containerStatuses: [
                { ...base, ready: true, started: true, state: { running: { startedAt: nowIso() } } },
              ],
            },
          },
          fieldValidation: STRICT,
        },
        MERGE,
      );
      runningSince.set(key, Date.now());
      log(`importer pod ${namespace}/${name} Running on ${pod.spec.nodeName}`);
      return later(key, importDelayMs);
    }
    const ranFor = Date.now() - (runningSince.get(key) ?? Date.now() - importDelayMs);
    if (ranFor < importDelayMs) return later(key, importDelayMs - ranFor);
    const message = importerTerminationMessage(pod);
    await core.patchNamespacedPodStatus(
      {
        name,
        namespace,
        body: {
          status: {
            phase: "Succeeded",
            conditions: [
              { type: "PodScheduled", status: "True", lastTransitionTime: startedAt },
              { type: "Initialized", status: "True", lastTransitionTime: startedAt },
              {
                type: "ContainersReady",
                status: "False",
                reason: "PodCompleted",
                lastTransitionTime: nowIso(),
              },
              { type: "Ready", status: "False", reason: "PodCompleted", lastTransitionTime: nowIso() },
            ],
            containerStatuses: [
              {
                ...base,
                ready: false,
                started: false,
                state: {
                  terminated: {
                    exitCode: 0,
                    reason: "Completed",
                    ...(message ? { message } : {}),
                    startedAt,
                    finishedAt: nowIso(),
                    containerID,
                  },
                },
              },
            ],
          },
        },
        fieldValidation: STRICT,
      },
      MERGE,
    );
    runningSince.delete(key);
    log(`importer pod ${namespace}/${name} Succeeded: ${message || "(no termination message)"}`);
  }

  // --- watches ---------------------------------------------------------------------------------
  const skip = (m?: Meta) => !m?.namespace || (!ns && opts.ignoreNamespace?.(m.namespace) === true);
  const isImporter = (m?: Meta) =>
    m?.labels?.app === "containerized-data-importer" && m.labels["cdi.kubevirt.io"] === "importer";

  const watches = watchLoops(kc, log);
  const watchLoop = (
    path: string,
    list: () => Promise<Listed>,
    onEvent: (type: string, obj: { metadata?: Meta }) => void,
    query: Record<string, string> = {},
  ) => watches.start(path, list, onEvent as never, query);

  const base = ns ? `/api/v1/namespaces/${ns}` : "/api/v1";
  watchLoop(
    `${base}/persistentvolumeclaims`,
    () =>
      (ns
        ? core.listNamespacedPersistentVolumeClaim({ namespace: ns })
        : core.listPersistentVolumeClaimForAllNamespaces()) as never,
    (type, obj) => {
      if (skip(obj.metadata)) return;
      const m = obj.metadata as Meta;
      if (type === "DELETED") {
        const p = releasePv(obj as k8s.V1PersistentVolumeClaim).catch((err) =>
          log(`releasing the PV of ${m.namespace}/${m.name}: ${(err as Error).message ?? err}`),
        );
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
        return;
      }
      enqueue(`pvc:${m.namespace}:${m.name}`);
    },
  );
  // PVs are cluster-scoped: a Released one (the binder's verdict once its PVC is gone) of ours goes
  watchLoop(
    "/api/v1/persistentvolumes",
    () => core.listPersistentVolume() as never,
    (type, obj) => {
      const pv = obj as k8s.V1PersistentVolume;
      const claimNs = pv.spec?.claimRef?.namespace;
      if (type === "DELETED" || pv.status?.phase !== "Released" || !claimNs) return;
      if ((ns && claimNs !== ns) || (!ns && opts.ignoreNamespace?.(claimNs))) return;
      const claim = {
        metadata: { name: pv.spec?.claimRef?.name, namespace: claimNs, uid: pv.spec?.claimRef?.uid },
      };
      const p = releasePv({ ...claim, spec: { volumeName: pv.metadata?.name } }).catch((err) =>
        log(`deleting Released PV ${pv.metadata?.name}: ${(err as Error).message ?? err}`),
      );
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    },
  );
  watchLoop(
    `${base}/pods`,
    () =>
      (ns
        ? core.listNamespacedPod({ namespace: ns, labelSelector: "app=containerized-data-importer" })
        : core.listPodForAllNamespaces({ labelSelector: "app=containerized-data-importer" })) as never,
    (type, obj) => {
      if (skip(obj.metadata) || !isImporter(obj.metadata) || type === "DELETED") return;
      const m = obj.metadata as Meta;
      enqueue(`pod:${m.namespace}:${m.name}`);
    },
    { labelSelector: "app=containerized-data-importer" },
  );

  return {
    async idle() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      watches.stop();
      await Promise.allSettled([...inflight]);
    },
  };
}
