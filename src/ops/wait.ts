import type { KubeResource } from "../kube/api.ts";
import { RESOURCES, type Resource } from "../kube/resources.ts";
import { listWatch } from "../kube/watch.ts";
import { managedSelector } from "../manifests/labels.ts";
import type { Plan } from "../plan/plan.ts";
import { logWatchResume, type OpsContext } from "./context.ts";
import type { Outcome } from "./outcome.ts";
import {
  type Condition,
  type DataVolume,
  dataVolumeProblem,
  noDefaultClassProblem,
  type Problem,
  SHORT_GRACE_SECONDS,
  type StorageClass,
  storageClassOf,
  vmiProblem,
  vmProblem,
} from "./problems.ts";

interface Vmi {
  metadata?: { name?: string; resourceVersion?: string; ownerReferences?: { kind: string; name: string }[] };
  status?: {
    phase?: string;
    nodeName?: string;
    reason?: string;
    conditions?: Condition[];
    interfaces?: { ipAddress?: string }[];
    phaseTransitionTimestamps?: { phase?: string; phaseTransitionTimestamp?: string }[];
  };
}

interface Vm {
  metadata?: { name?: string; resourceVersion?: string };
  status?: { printableStatus?: string; conditions?: Condition[] };
}

export interface VmStatus {
  name: string;
  workload: string;
  role?: string;
  phase: string;
  node?: string;
  ip?: string;
  createdAt?: Date;
  scheduledAt?: Date;
  runningAt?: Date;
  /** When the VMI's Ready condition turned True (its readiness probe passed). */
  readyAt?: Date;
  /** Whether it reached what the run waits for (--wait-for running|ready). */
  reached?: boolean;
  /** Why the VM failed or is stuck. */
  reason?: string;
  conditions?: string;
}

export interface WaitResult {
  vms: VmStatus[];
  outcome: Extract<Outcome, "ready" | "failed" | "timeout" | "interrupted">;
  /** For "failed": what failed, in one line. */
  failure?: string;
}

function conditionSummary(conditions: Condition[] | undefined): string {
  return (conditions ?? [])
    .filter((c) => c.status !== "True" || c.type === "Ready")
    .map(
      (c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ""})` : ""}`,
    )
    .join(", ");
}

/** The VM a DataVolume belongs to: its owner, else the `<base>-<vm>` name suffix. */
function vmOfDataVolume(dv: DataVolume, plan: Plan): string | undefined {
  const owner = dv.metadata?.ownerReferences?.find((o) => o.kind === "VirtualMachine")?.name;
  if (owner) return owner;
  return plan.vms.find((v) => v.dataVolumes.includes(dv.metadata?.name ?? ""))?.name;
}

const vmNameOf = (o: { metadata?: { name?: string; ownerReferences?: { kind: string; name: string }[] } }) =>
  o.metadata?.ownerReferences?.find((r) => r.kind === "VirtualMachine")?.name ?? o.metadata?.name ?? "";

export interface WaitOptions {
  timeoutSeconds: number;
  createdAt: Map<string, Date>;
  /** How long an unschedulable VM may wait for capacity (an autoscaler) before the run fails. */
  unschedulableGraceSeconds?: number;
  now?: () => Date;
  /** Server-side timeout of each watch request (tests shorten it). */
  watchTimeoutSeconds?: number;
  /**
   * "ready" (default): the VMI's Ready condition, i.e. its readiness probe (the workload's units
   * are active, through the guest agent); "running": the VMI phase Running.
   */
  waitFor?: "running" | "ready";
}

/**
 * One line of the wait: counts by phase, elapsed time against the deadline, the slowest VMs,
 * e.g. "45s of 600s · Running 5/8, Scheduled 2, Pending 1 · slowest: cpu-1 (Pending), db-1 (Scheduled)".
 */
export function waitProgress(vms: readonly VmStatus[], elapsedMs: number, timeoutSeconds: number): string {
  const byPhase = new Map<string, number>();
  for (const v of vms) byPhase.set(v.phase, (byPhase.get(v.phase) ?? 0) + 1);
  const running = byPhase.get("Running") ?? 0;
  byPhase.delete("Running");
  const phases = [`Running ${running}/${vms.length}`, ...[...byPhase].map(([p, n]) => `${p} ${n}`)].join(
    ", ",
  );
  const slowest = vms
    .filter((v) => v.phase !== "Running")
    .sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0))
    .slice(0, 3)
    .map((v) => `${v.name} (${v.phase})`);
  const time = `${Math.round(elapsedMs / 1000)}s of ${timeoutSeconds}s`;
  // Time first: a narrow terminal cuts the end of the line, the slowest VMs go first.
  return `${time} · ${phases}${slowest.length ? ` · slowest: ${slowest.join(", ")}` : ""}`;
}

/**
 * Waits until every planned VM is ready (or running, --wait-for). It follows VMs, VMIs and
 * DataVolumes selected by the managed-by label with one resumable list+watch each
 * (kube/watch.ts: a dropped, throttled or expired watch is resumed, not fatal) — not a poll per
 * VM. What KubeVirt and CDI report is read by problems.ts: a problem that cannot heal ends the
 * wait at once, one that may (an unschedulable VM) once it lasted its grace period, each with
 * the VM, the cause and the fix.
 */
export async function waitForVms(ctx: OpsContext, plan: Plan, options: WaitOptions): Promise<WaitResult> {
  const now = options.now ?? (() => new Date());
  const graceSeconds = {
    "unschedulable-grace": options.unschedulableGraceSeconds ?? 120,
    "short-grace": SHORT_GRACE_SECONDS,
  };
  // By managed-by, not run id: a re-run finds the VMs an earlier run created under the same names.
  const selector = managedSelector();
  const statuses = new Map<string, VmStatus>(
    plan.vms.map((v) => {
      const s: VmStatus = { name: v.name, workload: v.workload, phase: "Created" };
      if (v.role) s.role = v.role;
      const created = options.createdAt.get(v.name);
      if (created) s.createdAt = created;
      return [v.name, s];
    }),
  );
  let failure: string | undefined;
  const stop = new AbortController();
  const waitFor = options.waitFor ?? "ready";
  const count = (f: (s: VmStatus) => boolean) => [...statuses.values()].filter(f).length;
  const reached = () => count((s) => s.reached === true);
  const settled = () => failure !== undefined || reached() === statuses.size;
  const waitStarted = now().getTime();
  const report = () => {
    const line = waitProgress([...statuses.values()], now().getTime() - waitStarted, options.timeoutSeconds);
    ctx.progress(waitFor === "ready" ? `${line} · ready ${reached()}/${statuses.size}` : line);
  };
  const checkSettled = () => {
    if (settled()) stop.abort();
  };

  /** Open problems by VM, then by where they were seen (vm / vmi / dv:<name>), with since when. */
  const problems = new Map<string, Map<string, { problem: Problem; since: number }>>();
  const fail = (vm: string, problem: Problem) => {
    const s = statuses.get(vm);
    if (!s || s.reached || failure) return;
    s.reason = problem.cause;
    failure = `VM ${vm}: ${problem.cause}; ${problem.fix}`;
    ctx.emit({ type: "vm_failed", name: vm, reason: problem.cause });
    checkSettled();
  };
  const setProblem = (vm: string, source: string, problem: Problem | undefined) => {
    if (!statuses.has(vm)) return;
    let mine = problems.get(vm);
    if (!problem) {
      mine?.delete(source);
      return;
    }
    if (!mine) {
      mine = new Map();
      problems.set(vm, mine);
    }
    const prev = mine.get(source);
    const since = prev && prev.problem.after === problem.after ? prev.since : Date.now();
    mine.set(source, { problem, since });
    if (problem.after === "now") fail(vm, problem);
    else if (!prev)
      ctx.logger.info("VM is not progressing; waiting for its grace period", {
        vm,
        cause: problem.cause,
        grace_seconds: graceSeconds[problem.after],
      });
  };
  const checkGraces = () => {
    for (const [vm, mine] of problems) {
      for (const { problem, since } of mine.values()) {
        if (problem.after === "now") continue;
        const grace = graceSeconds[problem.after];
        if (Date.now() - since >= grace * 1000)
          fail(vm, { ...problem, cause: `${problem.cause}, for more than ${grace}s` });
      }
    }
  };

  const onVmi = (vmi: Vmi) => {
    const name = vmNameOf(vmi);
    const s = statuses.get(name);
    if (!s) return;
    const phase = vmi.status?.phase ?? "Pending";
    // Observation times only: the VMI's phaseTransitionTimestamps have second precision and,
    // for a VM of an earlier run, predate this run, so latencies taken from them can be
    // negative. Never before this run created the VM, either.
    const observed = () =>
      s.createdAt && s.createdAt.getTime() > now().getTime() ? new Date(s.createdAt) : now();
    if (phase !== s.phase) ctx.emit({ type: "vm_phase", name, phase, at: now().toISOString() });
    s.phase = phase;
    if (vmi.status?.nodeName) s.node = vmi.status.nodeName;
    const ip = vmi.status?.interfaces?.find((i) => i.ipAddress)?.ipAddress;
    if (ip) s.ip = ip;
    s.conditions = conditionSummary(vmi.status?.conditions);
    if (!s.scheduledAt && (phase === "Scheduled" || phase === "Running")) {
      s.scheduledAt = observed();
    }
    if (!s.runningAt && phase === "Running") {
      s.runningAt = observed();
      const event: { type: "vm_running"; name: string; at: string; node?: string; ip?: string } = {
        type: "vm_running",
        name,
        at: s.runningAt.toISOString(),
      };
      if (s.node) event.node = s.node;
      if (s.ip) event.ip = s.ip;
      ctx.emit(event);
      ctx.logger.debug("vm running", { vm: name, node: s.node, ip: s.ip });
      problems.delete(name);
    }
    const ready = vmi.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    if (!s.readyAt && phase === "Running" && ready) {
      s.readyAt = now();
      ctx.emit({ type: "vm_ready", name, at: s.readyAt.toISOString() });
    }
    if (!s.reached && (waitFor === "running" ? s.runningAt : s.readyAt)) s.reached = true;
    if (phase !== "Running") setProblem(name, "vmi", vmiProblem(vmi));
    report();
    checkSettled();
  };
  const onVm = (vm: Vm) => {
    const name = vm.metadata?.name ?? "";
    if (statuses.get(name)?.reached) return;
    setProblem(name, "vm", vmProblem(vm));
  };

  // StorageClass checks for DataVolumes that wait for a claim: looked up once per class (and
  // once for "is there a default"), only when a DataVolume actually waits.
  const classLookups = new Map<string, Promise<Problem | undefined>>();
  const classCheck = (dv: DataVolume): Promise<Problem | undefined> => {
    const cls = storageClassOf(dv);
    const key = cls ?? "";
    let lookup = classLookups.get(key);
    if (!lookup) {
      lookup = (async () => {
        try {
          if (cls === undefined) {
            const list = await ctx.api.list<StorageClass>(
              RESOURCES.storageclasses,
              undefined,
              undefined,
              undefined,
              {
                signal: stop.signal,
              },
            );
            return noDefaultClassProblem(dv, list.items);
          }
          const found = await ctx.api.get(RESOURCES.storageclasses, cls, undefined, { signal: stop.signal });
          return found
            ? undefined
            : {
                cause: `DataVolume ${dv.metadata?.name ?? ""} asks for StorageClass "${cls}", which does not exist`,
                fix: "pass --storage-class with a StorageClass the cluster has (`kubectl get storageclass`)",
                after: "now" as const,
              };
        } catch (err) {
          // No right to read StorageClasses (they are cluster-scoped): rely on what CDI reports.
          ctx.logger.debug("cannot check StorageClasses", { error: (err as Error).message });
          return undefined;
        }
      })();
      classLookups.set(key, lookup);
    }
    return lookup;
  };
  const latestDv = new Map<string, DataVolume>();
  const claimTimers = new Map<string, NodeJS.Timeout>();
  const onDataVolume = (dv: DataVolume) => {
    const vm = vmOfDataVolume(dv, plan);
    if (!vm || statuses.get(vm)?.runningAt) return;
    const source = `dv:${dv.metadata?.name ?? ""}`;
    const problem = dataVolumeProblem(dv);
    if (claimNotValid(dv)) {
      // CDI could not build the claim (no class to take a profile from): say which class is
      // missing, or that there is no default one, before CDI's generic words
      void classCheck(dv).then((p) => {
        if (!stop.signal.aborted) setProblem(vm, source, p ?? problem);
      });
      return;
    }
    setProblem(vm, source, problem);
    const dvName = dv.metadata?.name ?? "";
    latestDv.set(dvName, dv);
    // A claim is Pending for a moment while the provisioner works: look up its StorageClass only
    // when it still waits a few seconds later (fewer requests; no cluster-scoped read for a
    // namespace-scoped identity on a healthy run).
    if (!problem && waitsForClaim(dv) && !claimTimers.has(dvName)) {
      const t = setTimeout(() => {
        const now = latestDv.get(dvName);
        if (!now || !waitsForClaim(now) || stop.signal.aborted) return;
        void classCheck(now).then((p) => {
          if (p && !stop.signal.aborted) setProblem(vm, source, p);
        });
      }, CLAIM_PENDING_MS);
      t.unref?.();
      claimTimers.set(dvName, t);
    }
  };

  const timer = setTimeout(() => stop.abort(), options.timeoutSeconds * 1000);
  // Grace periods expire and the elapsed time moves even when no object changes.
  const ticker = setInterval(() => {
    checkGraces();
    report();
  }, 1000);
  ticker.unref?.();
  const onAbort = () => stop.abort();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  const follow = <T extends KubeResource>(resource: Resource, handle: (o: T) => void) =>
    listWatch<T>(ctx.api, {
      resource,
      namespace: plan.namespace,
      labelSelector: selector,
      signal: stop.signal,
      onList: (items) => {
        for (const item of items) handle(item);
      },
      onEvent: (event) => {
        if (event.type !== "DELETED") handle(event.object);
      },
      done: settled,
      ...(options.watchTimeoutSeconds ? { watchTimeoutSeconds: options.watchTimeoutSeconds } : {}),
      onResume: logWatchResume(ctx, resource.plural),
    });
  report();
  try {
    const needsDataVolumes = plan.vms.some((v) => v.dataVolumes.length);
    await Promise.all([
      follow<Vmi>(RESOURCES.virtualmachineinstances, onVmi),
      follow<Vm>(RESOURCES.virtualmachines, onVm),
      needsDataVolumes ? follow<DataVolume>(RESOURCES.datavolumes, onDataVolume) : Promise.resolve(),
    ]);
  } finally {
    clearTimeout(timer);
    clearInterval(ticker);
    for (const t of claimTimers.values()) clearTimeout(t);
    report();
    ctx.signal.removeEventListener("abort", onAbort);
    stop.abort();
  }
  const vms = [...statuses.values()];
  if (failure) return { vms, outcome: "failed", failure };
  if (reached() === vms.length) return { vms, outcome: "ready" };
  if (ctx.signal.aborted) return { vms, outcome: "interrupted" };
  return { vms, outcome: "timeout" };
}

/** how long a claim may be Pending before its StorageClass is looked up */
const CLAIM_PENDING_MS = 3000;

/** CDI could not even build the claim (ErrClaimNotValid: no StorageClass to take a profile from). */
function claimNotValid(dv: DataVolume): boolean {
  return (dv.status?.conditions ?? []).some(
    (c) => c.type === "Bound" && c.status === "False" && c.reason === "ErrClaimNotValid",
  );
}

/**
 * A DataVolume whose claim CDI reports as not bound (Pending, Bound=False): not a new one without
 * status yet, not WaitForFirstConsumer, not importing.
 */
function waitsForClaim(dv: DataVolume): boolean {
  return (
    dv.status?.phase === "Pending" &&
    (dv.status.conditions ?? []).some((c) => c.type === "Bound" && c.status === "False")
  );
}
