/**
 * What KubeVirt and CDI report about a VM that will not come up, turned into a cause and a fix.
 * Pure: the wait step (wait.ts) feeds it the objects it watches and decides, from `after`,
 * whether the run fails at once or only once the problem has lasted a grace period:
 *
 *   at once   ErrImagePull / ImagePullBackOff, CrashLoopBackOff, a failed VMI, DataVolumeError,
 *             a DataVolume that failed or cannot bind (missing or no default StorageClass,
 *             provisioning failed), a ResourceQuota that refuses the virt-launcher pod
 *   grace     ErrorUnschedulable / PodScheduled=False (a cluster autoscaler may add a node:
 *             --unschedulable-grace, default 120 s), ErrorPvcNotFound / ErrorDataVolumeNotFound
 *             (CDI may still be creating them: 30 s)
 *   normal    WaitingForVolumeBinding / WaitForFirstConsumer (the volume binds when the VM's pod
 *             is scheduled), Provisioning, Starting, import in progress
 */

export interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

export interface Problem {
  /** What failed, in one line (without the VM name). */
  cause: string;
  /** What to check or change. */
  fix: string;
  /** "now" fails at once; otherwise the problem must last this long. */
  after: "now" | "unschedulable-grace" | "short-grace";
}

/** Seconds of the "short-grace" problems. */
export const SHORT_GRACE_SECONDS = 30;

interface Vm {
  status?: { printableStatus?: string; conditions?: Condition[] };
}
interface Vmi {
  status?: { phase?: string; reason?: string; conditions?: Condition[] };
}
export interface DataVolume {
  metadata?: { name?: string; resourceVersion?: string; ownerReferences?: { kind: string; name: string }[] };
  spec?: { storage?: { storageClassName?: string }; pvc?: { storageClassName?: string } };
  status?: { phase?: string; conditions?: Condition[] };
}

const oneLine = (s: string | undefined) => (s ?? "").replace(/\s+/g, " ").trim();

function detail(c: Condition | undefined, said = ""): string {
  if (!c) return "";
  const m = oneLine(c.message);
  if (m && m !== said) return `: ${m}`;
  return c.reason && c.reason !== said ? ` (${c.reason})` : "";
}

const QUOTA = /exceeded quota|forbidden: .*quota|insufficient quota/i;

const quotaFix =
  "a ResourceQuota in the namespace refuses it: check `kubectl describe resourcequota -n <namespace>`; ask for more quota, or plan fewer or smaller VMs (--vm-count, --cpu-cores, --memory)";

/** From the VirtualMachine's printableStatus and conditions. */
export function vmProblem(vm: Vm): Problem | undefined {
  const printable = vm.status?.printableStatus ?? "";
  const conditions = vm.status?.conditions ?? [];
  const failing = conditions.find((c) => c.type === "Failure" && c.status === "True");
  const notReady = conditions.find((c) => c.type === "Ready" && c.status === "False");
  const why = failing ?? notReady;
  switch (printable) {
    case "ErrImagePull":
    case "ImagePullBackOff":
      return {
        // the runtime's words: the condition KubeVirt names after the pull state, if any
        cause: `the container disk image cannot be pulled (${printable}${detail(
          conditions.find((c) => c.status === "False" && c.reason === printable) ?? why,
          printable,
        )})`,
        fix: "check the image reference (--container-disk-image), that the nodes can reach its registry, and the pull secret if it is private",
        after: "now",
      };
    case "CrashLoopBackOff":
      return {
        cause: `the VM keeps failing to start (CrashLoopBackOff${detail(why, printable)})`,
        fix: "look at the VMI's events and its virt-launcher pod log (`kubectl describe vmi`, `kubectl logs`); check the CPU/memory requests fit a node",
        after: "now",
      };
    case "DataVolumeError":
      return {
        cause: `a data volume failed (DataVolumeError${detail(why, printable)})`,
        fix: "look at the DataVolume and its PVC (`kubectl describe dv,pvc`); check --storage-class and the storage provisioner",
        after: "now",
      };
    case "ErrorUnschedulable":
      return {
        // the scheduler's words ("0/3 nodes are available: …"), which KubeVirt copies from the
        // launcher pod to the VM's PodScheduled condition; the Ready condition only says the
        // guest is not running
        cause: `no node can run it (ErrorUnschedulable${detail(
          conditions.find((c) => c.type === "PodScheduled" && c.status === "False") ?? why,
          printable,
        )})`,
        fix: "free or add capacity (CPU, memory, devices.kubevirt.io/kvm), or plan smaller VMs (--cpu-cores, --memory)",
        after: "unschedulable-grace",
      };
    case "ErrorPvcNotFound":
    case "ErrorDataVolumeNotFound":
      return {
        cause: `its disk is missing (${printable}${detail(why, printable)})`,
        fix: "check that CDI is running and the DataVolumes of the VM exist (`kubectl get dv`)",
        after: "short-grace",
      };
  }
  if (failing && QUOTA.test(failing.message ?? "")) {
    return { cause: `creating its VMI was refused${detail(failing)}`, fix: quotaFix, after: "now" };
  }
  return undefined;
}

/** From the VirtualMachineInstance's phase and conditions. */
export function vmiProblem(vmi: Vmi): Problem | undefined {
  const phase = vmi.status?.phase ?? "";
  const conditions = vmi.status?.conditions ?? [];
  if (phase === "Failed" || phase === "Succeeded") {
    const ready = conditions.find((c) => c.type === "Ready" && c.status === "False");
    return {
      cause: `its VMI ${phase === "Failed" ? "failed" : "stopped"}: ${oneLine(vmi.status?.reason) || oneLine(ready?.message) || `phase ${phase}`}`,
      fix: "look at the VMI's events and its virt-launcher pod log (`kubectl describe vmi`, `kubectl logs`)",
      after: "now",
    };
  }
  const sync = conditions.find((c) => c.type === "Synchronized" && c.status === "False");
  if (sync && QUOTA.test(sync.message ?? "")) {
    return { cause: `its virt-launcher pod was refused${detail(sync)}`, fix: quotaFix, after: "now" };
  }
  if (sync && /violates PodSecurity/.test(sync.message ?? "")) {
    return {
      cause: `its virt-launcher pod was refused${detail(sync)}`,
      fix: "the namespace's Pod Security level refuses virt-launcher pods, which need a privileged namespace: label it pod-security.kubernetes.io/enforce=privileged, or run the VMs in another namespace (-n)",
      after: "now",
    };
  }
  const scheduled = conditions.find((c) => c.type === "PodScheduled" && c.status === "False");
  if (scheduled?.reason === "Unschedulable") {
    return {
      cause: `no node can run it (Unschedulable${detail(scheduled)})`,
      fix: "free or add capacity (CPU, memory, devices.kubevirt.io/kvm), or plan smaller VMs (--cpu-cores, --memory)",
      after: "unschedulable-grace",
    };
  }
  return undefined;
}

export function storageClassOf(dv: DataVolume): string | undefined {
  return dv.spec?.storage?.storageClassName ?? dv.spec?.pvc?.storageClassName;
}

/**
 * From the DataVolume alone. A Pending DataVolume may also wait for a StorageClass that does not
 * exist, or for a default one the cluster lacks: the wait step looks that up
 * (noDefaultClassProblem), since CDI then only says "Pending".
 */
export function dataVolumeProblem(dv: DataVolume): Problem | undefined {
  const name = dv.metadata?.name ?? "";
  const phase = dv.status?.phase ?? "";
  const conditions = dv.status?.conditions ?? [];
  const bound = conditions.find((c) => c.type === "Bound" && c.status === "False");
  const running = conditions.find((c) => c.type === "Running" && c.status === "False");
  if (phase === "Failed") {
    return {
      cause: `DataVolume ${name} failed${detail(running ?? bound)}`,
      fix: "look at the DataVolume, its PVC and importer pod (`kubectl describe dv,pvc`); check --storage-class and the provisioner",
      after: "now",
    };
  }
  if (phase === "WaitForFirstConsumer" || phase === "PendingPopulation") return undefined;
  const message = bound?.message ?? "";
  if (/storageclass.*not found|storage class.*not found/i.test(message)) {
    return {
      cause: `DataVolume ${name} cannot bind: ${oneLine(message)}`,
      fix: "pass --storage-class with a StorageClass the cluster has (`kubectl get storageclass`)",
      after: "now",
    };
  }
  if (bound && /ProvisioningFailed|ClaimLost|ErrClaimNotValid/.test(`${bound.reason} ${message}`)) {
    return {
      cause: `DataVolume ${name} cannot get its volume (${bound.reason ?? "Bound=False"}${detail(bound)})`,
      fix: "check the StorageClass's provisioner and `kubectl describe pvc`; or pick another --storage-class",
      after: "now",
    };
  }
  if (running?.reason === "Error" && QUOTA.test(running.message ?? "")) {
    return {
      cause: `DataVolume ${name}'s importer was refused${detail(running)}`,
      fix: quotaFix,
      after: "now",
    };
  }
  return undefined;
}

export interface StorageClass {
  metadata?: { name?: string; annotations?: Record<string, string> };
}

/** The problem when a DataVolume without a class waits and the cluster has no default class. */
export function noDefaultClassProblem(dv: DataVolume, classes: StorageClass[]): Problem | undefined {
  const isDefault = (sc: StorageClass) =>
    sc.metadata?.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true" ||
    sc.metadata?.annotations?.["storageclass.kubevirt.io/is-default-virt-class"] === "true";
  if (classes.some(isDefault)) return undefined;
  const names = classes.map((c) => c.metadata?.name).filter(Boolean);
  return {
    cause: `DataVolume ${dv.metadata?.name ?? ""} names no StorageClass and the cluster has no default one`,
    fix: names.length
      ? `pass --storage-class (the cluster has: ${names.join(", ")}), or mark one default (storageclass.kubernetes.io/is-default-class=true)`
      : "the cluster has no StorageClass at all: install a storage provisioner, or run workloads without data disks",
    after: "now",
  };
}
