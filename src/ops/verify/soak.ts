/**
 * `verify --for` / `--since`: whether each VM × signal stayed present over a window, from range
 * queries (one point per step). Pure: the points in, per check its coverage, its longest gap
 * (and when it began), and the spread of its values against the signal's threshold.
 */
import { formatValue } from "../../workloads/signals.ts";
import type { VerifyPlan } from "./targets.ts";

export interface SoakWindow {
  /** unix seconds */
  start: number;
  end: number;
  stepSeconds: number;
  /** A check fails when it has no signal for longer than this. */
  maxGapSeconds: number;
}

export interface SoakResult {
  vm: string;
  workload: string;
  role: string;
  signal: string;
  unit: string;
  min: number;
  /** points in the window at which the signal was there (a value ≥ min) */
  present: number;
  steps: number;
  /** present / steps */
  coverage: number;
  longestGapSeconds: number;
  /** when the longest gap began (ISO), if there was one */
  longestGapAt?: string;
  low?: number;
  median?: number;
  high?: number;
  ok: boolean;
  /** Human form: "100%, no gap", "92%, longest gap 40s at 12:03:10Z" */
  shown: string;
  expected: string;
}

function median(sorted: number[]): number | undefined {
  if (!sorted.length) return undefined;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The step times of the window: start, start+step, … ≤ end (as Prometheus evaluates a range). */
export function stepTimes(w: SoakWindow): number[] {
  const times: number[] = [];
  for (let t = w.start; t <= w.end + 1e-9; t += w.stepSeconds) times.push(Math.round(t * 1000) / 1000);
  return times;
}

/** One check over the window: which steps had the signal, the longest run of steps without. */
export function soakCheck(
  points: readonly [number, number][],
  min: number,
  w: SoakWindow,
): Pick<
  SoakResult,
  "present" | "steps" | "coverage" | "longestGapSeconds" | "longestGapAt" | "low" | "median" | "high"
> {
  const at = new Map(points.map(([t, v]) => [Math.round(t * 1000) / 1000, v]));
  const times = stepTimes(w);
  let present = 0;
  let run = 0;
  let runStart = 0;
  let longest = 0;
  let longestStart: number | undefined;
  for (const t of times) {
    const v = at.get(t);
    if (v !== undefined && Number.isFinite(v) && v >= min) {
      present++;
      run = 0;
      continue;
    }
    if (run === 0) runStart = t;
    run++;
    if (run > longest) {
      longest = run;
      longestStart = runStart;
    }
  }
  const values = points
    .map(([, v]) => v)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  const mid = median(values);
  return {
    present,
    steps: times.length,
    coverage: times.length ? present / times.length : 0,
    longestGapSeconds: longest * w.stepSeconds,
    ...(longestStart !== undefined ? { longestGapAt: new Date(longestStart * 1000).toISOString() } : {}),
    ...(values.length ? { low: values[0], high: values.at(-1) } : {}),
    ...(mid !== undefined ? { median: mid } : {}),
  };
}

function duration(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return s ? `${m}m${s}s` : `${m}m`;
}

/**
 * Every check of the plan over the window. `series` holds, per `workload\0signal` query, each
 * VM's points (by VM name).
 */
export function soakResults(
  plan: VerifyPlan,
  series: ReadonlyMap<string, ReadonlyMap<string, [number, number][]>>,
  w: SoakWindow,
): SoakResult[] {
  return plan.checks.map(({ vm, signal }) => {
    const points = series.get(`${vm.workload}\0${signal.name}`)?.get(vm.name) ?? [];
    const s = soakCheck(points, signal.min, w);
    const ok = s.present > 0 && s.longestGapSeconds <= w.maxGapSeconds;
    const pct = `${Math.floor(s.coverage * 1000) / 10}%`;
    const gap = s.longestGapSeconds
      ? `longest gap ${duration(s.longestGapSeconds)} at ${s.longestGapAt?.slice(11, 19)}Z`
      : "no gap";
    return {
      vm: vm.name,
      workload: vm.workload,
      role: vm.role,
      signal: signal.name,
      unit: signal.unit,
      min: signal.min,
      ...s,
      ok,
      shown: s.present ? `${pct}, ${gap}` : "no data in the window",
      expected: `≥ ${formatValue(signal.min, signal.unit)}, gaps ≤ ${duration(w.maxGapSeconds)}`,
    };
  });
}

export { duration as formatDuration };
