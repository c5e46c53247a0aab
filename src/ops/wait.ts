import { RESOURCES } from "../kube/resources.ts";
import { managedSelector } from "../manifests/labels.ts";
import type { Plan } from "../plan/plan.ts";
import type { OpsContext } from "./context.ts";
import type { Outcome } from "./outcome.ts";

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

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

interface DataVolume {
  metadata?: { name?: string; resourceVersion?: string; ownerReferences?: { kind: string; name: string }[] };
  status?: { phase?: string; conditions?: Condition[] };
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

/** A DataVolume that cannot bind, with the reason; undefined while it may still make progress. */
function dataVolumeProblem(dv: DataVolume): string | undefined {
  if (dv.status?.phase === "Failed")
    return `DataVolume ${dv.metadata?.name} failed: ${conditionSummary(dv.status.conditions)}`;
  const bound = dv.status?.conditions?.find((c) => c.type === "Bound");
  if (
    bound?.status === "False" &&
    /storageclass.*not found|storage class.*not found/i.test(bound.message ?? "")
  ) {
    return `DataVolume ${dv.metadata?.name} cannot bind: ${bound.message}`;
  }
  return undefined;
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
 * Waits until every planned VM's VMI is Running, using one list + one watch of VMIs (and of
 * DataVolumes) selected by the managed-by label — not a poll per VM. A VMI that fails, or a DataVolume
 * that cannot bind, ends the wait at once with the reason (design §4.4).
 */
export async function waitForVms(
  ctx: OpsContext,
  plan: Plan,
  options: { timeoutSeconds: number; createdAt: Map<string, Date>; now?: () => Date },
): Promise<WaitResult> {
  const now = options.now ?? (() => new Date());
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
  const running = () => [...statuses.values()].filter((s) => s.phase === "Running").length;
  const waitStarted = now().getTime();
  const report = () =>
    ctx.progress(waitProgress([...statuses.values()], now().getTime() - waitStarted, options.timeoutSeconds));

  const onVmi = (vmi: Vmi): boolean => {
    const name =
      vmi.metadata?.ownerReferences?.find((o) => o.kind === "VirtualMachine")?.name ??
      vmi.metadata?.name ??
      "";
    const s = statuses.get(name);
    if (!s) return false;
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
    }
    if (phase === "Failed" || phase === "Succeeded") {
      s.reason = vmi.status?.reason || s.conditions || `VMI phase ${phase}`;
      failure ??= `VM ${name} failed: ${s.reason}`;
      ctx.emit({ type: "vm_failed", name, reason: s.reason });
    }
    report();
    return true;
  };
  const onDataVolume = (dv: DataVolume) => {
    const problem = dataVolumeProblem(dv);
    const vm = vmOfDataVolume(dv, plan);
    if (!problem || !vm) return;
    const s = statuses.get(vm);
    if (s && s.phase !== "Running") {
      s.reason = problem;
      failure ??= `VM ${vm}: ${problem}`;
      ctx.emit({ type: "vm_failed", name: vm, reason: problem });
    }
  };
  const settled = () => failure !== undefined || running() === statuses.size;

  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => stop.abort(), options.timeoutSeconds * 1000);
  // Elapsed time moves even when no VMI changes.
  const ticker = setInterval(report, 1000);
  ticker.unref?.();
  report();
  try {
    const needsDataVolumes = plan.vms.some((v) => v.dataVolumes.length);
    const watchKind = async <T extends { metadata?: { resourceVersion?: string } }>(
      resource: typeof RESOURCES.virtualmachineinstances,
      handle: (o: T) => void,
    ) => {
      while (!settled() && !stop.signal.aborted) {
        const list = await ctx.api.list<T>(resource, plan.namespace, selector);
        for (const item of list.items) handle(item);
        if (settled()) break;
        let version: string | undefined = list.resourceVersion;
        // Follow the watch; when the server ends it (its timeout), resume from the last version.
        while (version !== undefined && !settled() && !stop.signal.aborted) {
          const remaining = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
          try {
            const last: string | undefined = await ctx.api.watch<T>(
              resource,
              plan.namespace,
              { labelSelector: selector, resourceVersion: version, timeoutSeconds: Math.min(remaining, 300) },
              (event) => {
                if (event.type !== "DELETED") handle(event.object);
                return settled() ? "stop" : undefined;
              },
              stop.signal,
            );
            version = last;
          } catch (err) {
            // 410 Gone: the version is too old; list again.
            if ((err as { status?: number }).status === 410) version = undefined;
            else throw err;
          }
        }
      }
      if (settled()) stop.abort();
    };
    await Promise.all([
      watchKind<Vmi>(RESOURCES.virtualmachineinstances, (vmi) => void onVmi(vmi)),
      needsDataVolumes ? watchKind<DataVolume>(RESOURCES.datavolumes, onDataVolume) : Promise.resolve(),
    ]);
  } finally {
    clearTimeout(timer);
    clearInterval(ticker);
    report();
    ctx.signal.removeEventListener("abort", onAbort);
    stop.abort();
  }
  const vms = [...statuses.values()];
  if (failure) return { vms, outcome: "failed", failure };
  if (running() === vms.length) return { vms, outcome: "ready" };
  if (ctx.signal.aborted) return { vms, outcome: "interrupted" };
  return { vms, outcome: "timeout" };
}
