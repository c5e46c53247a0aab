/**
 * What a workload must make visible in KubeVirt's per-VMI metrics (virt-handler's
 * `kubevirt_vmi_*` series), and how much of it. `virtwork verify` checks these per VM;
 * `deploy/monitoring/` (rendered by scripts/render-monitoring.ts) alerts on the same
 * expressions. Pure data plus the PromQL they turn into: no I/O here.
 *
 * How a VM is selected in PromQL:
 *  - `verify` knows each VM's namespace and name (the VMI has the VM's name), so it matches
 *    virt-handler's own `namespace` and `name` labels — works on every KubeVirt version.
 *  - Alerts and the dashboard have no VM list: they select by the VM's own labels, which
 *    virt-handler copies onto every `kubevirt_vmi_*` series as `kubernetes_vmi_label_<key>`
 *    with `.`, `/` and `-` replaced by `_` (e.g. `virtwork/run-id` →
 *    `kubernetes_vmi_label_virtwork_run_id`). The VM template carries virtwork's labels,
 *    so the VMI and its series do too.
 */

/**
 * - `rate`: per-second rate of a counter, summed over its series (vCPUs, interfaces, …).
 * - `gauge`: current value, summed.
 * - `ratio`: `metric / of`, both summed (e.g. resident memory / guest memory).
 * - `peak-ratio`: highest `metric / of` over the window, per series (e.g. the fullest
 *   filesystem while a fill/release cycle runs).
 */
export type SignalKind = "rate" | "gauge" | "ratio" | "peak-ratio";

export interface Signal {
  /** Short name shown in tables and alerts, e.g. `disk-write`. */
  name: string;
  /** One line for people: what the workload does that moves this number. */
  description: string;
  kind: SignalKind;
  /** A `kubevirt_vmi_*` metric. */
  metric: string;
  /** Denominator metric of `ratio` / `peak-ratio`. */
  of?: string;
  /** Exact label matchers beyond the VM's identity, e.g. `{ drive: "datadisk" }`. */
  labels?: Readonly<Record<string, string>>;
  /** The signal is there when the measured value is at least this. */
  min: number;
  /** How values print: `cores`, `bytes/s`, `ops/s`, `ratio`, `bytes`. */
  unit: SignalUnit;
  /** Only VMs of these roles must produce it (all VMs when absent). */
  roles?: readonly string[];
  /** PromQL range for rate/peak (default `2m`). */
  window?: string;
}

export type SignalUnit = "cores" | "bytes/s" | "ops/s" | "ratio" | "bytes";
export const SIGNAL_KINDS: readonly SignalKind[] = ["rate", "gauge", "ratio", "peak-ratio"];
export const SIGNAL_UNITS: readonly SignalUnit[] = ["cores", "bytes/s", "ops/s", "ratio", "bytes"];
export const DEFAULT_WINDOW = "2m";

/** What virt-handler calls a VMI label `key` on its series. */
export function vmiLabel(key: string): string {
  return `kubernetes_vmi_label_${key.replace(/[./-]/g, "_")}`;
}

export const METRIC_PATTERN = /^kubevirt_vmi_[a-z0-9_]+$/;
export const LABEL_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
export const WINDOW_PATTERN = /^[1-9][0-9]{0,4}[smh]$/;

/** A PromQL string literal (double-quoted, escaped). */
export function promString(value: string): string {
  return JSON.stringify(value);
}

/** `key="value"` (value escaped). */
export function eq(key: string, value: string): string {
  return `${key}=${promString(value)}`;
}

/** `key=~"regex"` (a Grafana variable such as `$namespace` is a regex there). */
export function re(key: string, regex: string): string {
  return `${key}=~${promString(regex)}`;
}

/**
 * The PromQL of `signal` over the series that `selector` (rendered matchers, see eq/re)
 * picks, one sample per distinct value of the `by` labels.
 */
export function signalExpr(signal: Signal, selector: readonly string[], by: readonly string[]): string {
  const extra = Object.entries(signal.labels ?? {}).map(([k, v]) => eq(k, v));
  const sel = `{${[...selector, ...extra].join(",")}}`;
  const window = signal.window ?? DEFAULT_WINDOW;
  const group = `by (${by.join(", ")})`;
  switch (signal.kind) {
    case "rate":
      return `sum ${group} (rate(${signal.metric}${sel}[${window}]))`;
    case "gauge":
      return `sum ${group} (${signal.metric}${sel})`;
    case "ratio":
      return `sum ${group} (${signal.metric}${sel}) / sum ${group} (${signal.of}${sel})`;
    case "peak-ratio":
      return `max ${group} (max_over_time(${signal.metric}${sel}[${window}]) / ${signal.of}${sel})`;
  }
}

/** Whether VMs of `role` (undefined for single-role workloads) must produce `signal`. */
export function appliesTo(signal: Signal, role: string | undefined): boolean {
  return !signal.roles || (role !== undefined && signal.roles.includes(role));
}

/** A value printed the way people read it (`1.2 MiB/s`, `0.85 cores`, `42%`). */
export function formatValue(value: number, unit: SignalUnit): string {
  const bytes = (v: number) => {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
  };
  switch (unit) {
    case "cores":
      return `${value >= 10 ? value.toFixed(1) : value.toFixed(value >= 0.01 || value === 0 ? 2 : 4)} cores`;
    case "bytes/s":
      return `${bytes(value)}/s`;
    case "bytes":
      return bytes(value);
    case "ops/s":
      return `${value >= 100 ? Math.round(value) : value >= 0.1 || value === 0 ? value.toFixed(1) : value.toPrecision(2)} ops/s`;
    case "ratio":
      return `${Math.round(value * 100)}%`;
  }
}

/** What is wrong with a declared signal (catalog input), or undefined. */
export function signalProblem(s: Signal): string | undefined {
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(s.name)) return "name must be lowercase letters, digits and -";
  if (!SIGNAL_KINDS.includes(s.kind)) return `kind must be one of ${SIGNAL_KINDS.join(", ")}`;
  if (!METRIC_PATTERN.test(s.metric)) return "metric must be a kubevirt_vmi_* metric name";
  if ((s.kind === "ratio" || s.kind === "peak-ratio") !== (s.of !== undefined))
    return "of (the denominator metric) is required for ratio and peak-ratio, and only there";
  if (s.of !== undefined && !METRIC_PATTERN.test(s.of)) return "of must be a kubevirt_vmi_* metric name";
  for (const [k, v] of Object.entries(s.labels ?? {})) {
    if (!LABEL_NAME_PATTERN.test(k) || k === "namespace" || k === "name" || k.startsWith("__"))
      return `label ${k} is not a label a signal may match on`;
    if (typeof v !== "string" || v.length > 200) return `label ${k} needs a string value`;
  }
  if (!Number.isFinite(s.min) || s.min < 0) return "min must be a number >= 0";
  if (!SIGNAL_UNITS.includes(s.unit)) return `unit must be one of ${SIGNAL_UNITS.join(", ")}`;
  if (s.window !== undefined && !WINDOW_PATTERN.test(s.window)) return "window must look like 2m, 90s or 1h";
  return undefined;
}

// Constructors the built-ins use, so each declaration reads as one line.

const DATA_DISK = { drive: "datadisk" } as const;

export function vcpuBusy(min: number, description: string): Signal {
  return {
    name: "vcpu",
    description,
    kind: "rate",
    metric: "kubevirt_vmi_vcpu_seconds_total",
    min,
    unit: "cores",
  };
}

export function dataDiskWrites(bytesPerSecond: number, opsPerSecond: number, what: string): Signal[] {
  return [
    {
      name: "disk-write",
      description: `${what}: bytes written to the data disk`,
      kind: "rate",
      metric: "kubevirt_vmi_storage_write_traffic_bytes_total",
      labels: DATA_DISK,
      min: bytesPerSecond,
      unit: "bytes/s",
    },
    {
      name: "disk-write-iops",
      description: `${what}: write operations on the data disk`,
      kind: "rate",
      metric: "kubevirt_vmi_storage_iops_write_total",
      labels: DATA_DISK,
      min: opsPerSecond,
      unit: "ops/s",
    },
  ];
}

export function networkBothWays(bytesPerSecond: number, what: string, window?: string): Signal[] {
  return (["transmit", "receive"] as const).map((dir) => ({
    name: `net-${dir === "transmit" ? "tx" : "rx"}`,
    description: `${what}: bytes ${dir === "transmit" ? "sent" : "received"} on the pod network`,
    kind: "rate" as const,
    metric: `kubevirt_vmi_network_${dir}_bytes_total`,
    min: bytesPerSecond,
    unit: "bytes/s" as const,
    ...(window ? { window } : {}),
  }));
}
