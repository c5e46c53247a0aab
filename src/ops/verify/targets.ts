import { appliesTo, eq, formatValue, re, type Signal, signalExpr } from "../../workloads/signals.ts";
import type { Workload } from "../../workloads/types.ts";
import type { VmRow } from "../status.ts";

/** One signal one VM must produce. */
export interface Check {
  vm: VmRow;
  signal: Signal;
}

/** One PromQL query answering a signal for a group of VMs (one sample per VM). */
export interface SignalQuery {
  workload: string;
  signal: Signal;
  vms: string[];
  /** The series selector of these VMs (namespace, name), for other forms of the query. */
  matchers: string[];
  promql: string;
}

export interface VerifyPlan {
  checks: Check[];
  queries: SignalQuery[];
  /** VMs whose workload declares no signals (or is unknown here). */
  unchecked: VmRow[];
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * What to ask Prometheus for the VMs of a run: per workload and signal, one query over
 * virt-handler's `namespace` + `name` labels (the VMI has the VM's name), grouped by VM.
 * Pure: `workloadOf` resolves a workload name (built-in or catalog) to its declaration.
 */
export function planVerify(
  namespace: string,
  vms: readonly VmRow[],
  workloadOf: (name: string) => Workload | undefined,
): VerifyPlan {
  const checks: Check[] = [];
  const unchecked: VmRow[] = [];
  const groups = new Map<string, SignalQuery>();
  for (const vm of vms) {
    const signals = (workloadOf(vm.workload)?.signals ?? []).filter((s) =>
      appliesTo(s, vm.role || undefined),
    );
    if (!signals.length) {
      unchecked.push(vm);
      continue;
    }
    for (const signal of signals) {
      checks.push({ vm, signal });
      const key = `${vm.workload}\0${signal.name}`;
      const group = groups.get(key) ?? { workload: vm.workload, signal, vms: [], matchers: [], promql: "" };
      group.vms.push(vm.name);
      groups.set(key, group);
    }
  }
  for (const q of groups.values()) {
    const names =
      q.vms.length === 1 ? [eq("name", q.vms[0] ?? "")] : [re("name", q.vms.map(escapeRegex).join("|"))];
    q.matchers = [eq("namespace", namespace), ...names];
    q.promql = signalExpr(q.signal, q.matchers, ["namespace", "name"]);
  }
  return { checks, queries: [...groups.values()], unchecked };
}

/** A check's outcome: measured value (undefined when Prometheus has no sample) against the threshold. */
export interface CheckResult {
  vm: string;
  workload: string;
  role: string;
  phase: string;
  signal: string;
  metric: string;
  unit: Signal["unit"];
  min: number;
  measured?: number;
  ok: boolean;
  /** Human form: "1.2 MiB/s", or why there is no value. */
  shown: string;
  expected: string;
}

export function evaluate(
  plan: VerifyPlan,
  measured: ReadonlyMap<string, ReadonlyMap<string, number>>,
): CheckResult[] {
  return plan.checks.map(({ vm, signal }) => {
    const value = measured.get(`${vm.workload}\0${signal.name}`)?.get(vm.name);
    const has = value !== undefined && Number.isFinite(value);
    const ok = has && value >= signal.min;
    return {
      vm: vm.name,
      workload: vm.workload,
      role: vm.role,
      phase: vm.phase,
      signal: signal.name,
      metric: signal.metric,
      unit: signal.unit,
      min: signal.min,
      ...(has ? { measured: value } : {}),
      ok,
      shown: has
        ? formatValue(value, signal.unit)
        : vm.phase === "Running"
          ? "no data"
          : `no data (${vm.phase})`,
      expected: `≥ ${formatValue(signal.min, signal.unit)}`,
    };
  });
}
