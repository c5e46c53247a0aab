/**
 * Renders deploy/monitoring/ from the signals each built-in workload declares
 * (src/workloads/signals.ts), so the alerts, the dashboard and `virtwork verify` check the
 * same expressions with the same thresholds:
 *
 *   prometheusrule.yaml         PrometheusRule: VirtworkSignalMissing per workload × signal
 *   grafana-dashboard.json      Grafana dashboard: a row per workload, a panel per signal, per VM
 *   tests/signals.test.yaml     promtool unit tests: each alert fires for a silent VM, not for a healthy one
 *
 *   node --experimental-strip-types scripts/render-monitoring.ts            write the files
 *   node --experimental-strip-types scripts/render-monitoring.ts --check    exit 1 if they are stale
 *
 * Alerts have no VM list, so they select by the labels virt-handler copies from the VMI
 * (`kubernetes_vmi_label_*`, see signals.ts). A VM counts as alive while virt-handler
 * exports its vCPU series; an alive VM of a workload whose signal is below the threshold
 * (or absent) for `for` fires. A VM that is deleted stops being alive, so cleanup resolves
 * its alerts instead of firing them.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type {
  Dashboard,
  ThresholdsMode,
  VariableModel,
} from "@grafana/schema/dist/esm/raw/dashboard/x/Dashboard_types.gen";
import { stringify } from "yaml";
import { APP, LABEL_COMPONENT, LABEL_MANAGED_BY, LABEL_ROLE, LABEL_RUN_ID } from "../src/manifests/labels.ts";
import { BUILTIN_WORKLOADS } from "../src/workloads/registry.ts";
import { eq, formatValue, re, type Signal, signalExpr, vmiLabel } from "../src/workloads/signals.ts";
import type { Workload } from "../src/workloads/types.ts";

export const MONITORING_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "deploy", "monitoring");
export const ALERT = "VirtworkSignalMissing";
export const FOR = "10m";
const ALIVE_METRIC = "kubevirt_vmi_vcpu_seconds_total";

export const L = {
  managedBy: vmiLabel(LABEL_MANAGED_BY),
  component: vmiLabel(LABEL_COMPONENT),
  runId: vmiLabel(LABEL_RUN_ID),
  role: vmiLabel(LABEL_ROLE),
};
const VM_KEY = ["namespace", "name"];
const ALERT_BY = [...VM_KEY, L.runId, L.component, L.role];

function workloadSelector(w: Workload, s: Signal): string[] {
  return [eq(L.managedBy, APP), eq(L.component, w.name), ...(s.roles ? [re(L.role, s.roles.join("|"))] : [])];
}

const signalsOf = (workloads: readonly Workload[]) =>
  workloads.flatMap((w) => (w.signals ?? []).map((s) => ({ w, s })));

/** The alert expression: alive VMs of the workload, unless their signal reaches the threshold. */
export function alertExpr(w: Workload, s: Signal): string {
  const sel = workloadSelector(w, s).join(",");
  return [
    `group by (${ALERT_BY.join(", ")}) (${ALIVE_METRIC}{${sel}})`,
    `unless on (${VM_KEY.join(", ")})`,
    `(${signalExpr(s, workloadSelector(w, s), VM_KEY)} >= ${s.min})`,
  ].join("\n");
}

export function alertRule(w: Workload, s: Signal) {
  const on = s.labels ? ` ${Object.entries(s.labels).map(([k, v]) => `${k}=${v}`)}` : "";
  return {
    alert: ALERT,
    expr: alertExpr(w, s),
    for: FOR,
    labels: { severity: "warning", workload: w.name, signal: s.name },
    annotations: {
      summary: `virtwork VM {{ $labels.namespace }}/{{ $labels.name }} (${w.name}) produces no ${s.name} signal`,
      description:
        `${s.description}: expected at least ${formatValue(s.min, s.unit)} (${s.metric}${on}) for ${FOR}; ` +
        `run {{ $labels.${L.runId} }}. Check the workload unit in the guest, ` +
        `or run: virtwork verify -n {{ $labels.namespace }} --run-id {{ $labels.${L.runId} }}`,
    },
  };
}

export function prometheusRule(workloads: readonly Workload[] = BUILTIN_WORKLOADS): Record<string, unknown> {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: {
      name: "virtwork-signals",
      labels: { "app.kubernetes.io/name": APP, "app.kubernetes.io/component": "monitoring" },
    },
    spec: {
      groups: [
        {
          name: "virtwork-signals",
          rules: signalsOf(workloads).map(({ w, s }) => alertRule(w, s)),
        },
      ],
    },
  };
}

/**
 * Synthetic series of one VM of `w` for promtool: every signal at twice its threshold,
 * except `silent` (flat counter, or a small share for gauges and ratios).
 */
function vmSeries(
  w: Workload,
  vm: string,
  silent?: Signal,
  samples = 30,
): { series: string; values: string }[] {
  const labels = {
    namespace: "perf",
    name: vm,
    node: "worker-1",
    [L.managedBy]: APP,
    [L.component]: w.name,
    [L.runId]: "run-1",
  };
  const render = (metric: string, extra: Record<string, string>) =>
    `${metric}{${Object.entries({ ...labels, ...extra })
      .map(([k, v]) => eq(k, v))
      .join(",")}}`;
  const out = new Map<string, string>();
  const vcpu = { id: "0", state: "running" };
  for (const s of w.signals ?? []) {
    const healthy = s !== silent;
    const extra: Record<string, string> = { ...s.labels };
    if (s.metric === ALIVE_METRIC) Object.assign(extra, vcpu);
    if (s.metric.startsWith("kubevirt_vmi_network_")) extra.interface = "default";
    if (s.kind === "rate") {
      out.set(render(s.metric, extra), `100+${healthy ? s.min * 2 * 60 : 0}x${samples}`);
    } else {
      const total = 2 * 1024 ** 3;
      out.set(render(s.metric, extra), `${(healthy ? Math.min(1, s.min * 1.5) : 0.05) * total}x${samples}`);
      if (s.of) out.set(render(s.of, extra), `${total}x${samples}`);
    }
  }
  const alive = render(ALIVE_METRIC, vcpu);
  if (!out.has(alive)) out.set(alive, `0+3x${samples}`);
  return [...out].map(([series, values]) => ({ series, values }));
}

/** What promtool must see for the alert of `s` on VM `vm` (labels and rendered annotations). */
function expectedAlert(w: Workload, s: Signal, vm: string): Record<string, unknown> {
  const rule = alertRule(w, s);
  const values: Record<string, string> = { namespace: "perf", name: vm, [L.runId]: "run-1" };
  const fill = (t: string) => t.replace(/\{\{ \$labels\.([a-z_]+) \}\}/g, (_, k: string) => values[k] ?? "");
  return {
    exp_labels: {
      alertname: ALERT,
      ...rule.labels,
      namespace: "perf",
      name: vm,
      [L.component]: w.name,
      [L.runId]: "run-1",
    },
    exp_annotations: Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, fill(v)])),
  };
}

export function ruleTests(workloads: readonly Workload[] = BUILTIN_WORKLOADS): Record<string, unknown> {
  const withSignals = workloads.filter((w) => w.signals?.length);
  const silentVm = (w: Workload, s: Signal) => `virtwork-${w.name}-${s.name}-silent`;
  const series = withSignals.flatMap((w) => [
    ...vmSeries(w, `virtwork-${w.name}-healthy`),
    ...(w.signals ?? []).flatMap((s) => vmSeries(w, silentVm(w, s), s)),
  ]);
  const disk = workloads.find((w) => w.name === "disk");
  const diskWrite = disk?.signals?.[0];
  if (!disk || !diskWrite) throw new Error("the disk workload declares no signal");
  return {
    rule_files: ["rules.yaml"],
    evaluation_interval: "1m",
    tests: [
      {
        name: "a VM silent on one signal fires that signal's alert after the hold time; healthy VMs never fire",
        interval: "1m",
        input_series: series,
        alert_rule_test: [
          { eval_time: "5m", alertname: ALERT, exp_alerts: [] },
          {
            eval_time: "20m",
            alertname: ALERT,
            exp_alerts: withSignals.flatMap((w) =>
              (w.signals ?? []).map((s) => expectedAlert(w, s, silentVm(w, s))),
            ),
          },
        ],
      },
      {
        name: "a VM that virt-handler stops exporting (deleted by cleanup) resolves instead of firing",
        interval: "1m",
        // 20 minutes of samples, then the series end
        input_series: vmSeries(disk, "virtwork-disk-0", diskWrite, 20),
        alert_rule_test: [
          {
            eval_time: "15m",
            alertname: ALERT,
            exp_alerts: [expectedAlert(disk, diskWrite, "virtwork-disk-0")],
          },
          { eval_time: "28m", alertname: ALERT, exp_alerts: [] },
        ],
      },
    ],
  };
}

// ---- dashboard -------------------------------------------------------------------------

// Grafana's variable syntax, not a JavaScript template.
const DS = { type: "prometheus", uid: ["$", "{datasource}"].join("") };

function variable(name: string, label: string, query: string): VariableModel {
  return {
    name,
    label,
    type: "query",
    datasource: DS,
    query: { query, refId: `${name}-var` },
    refresh: 2,
    multi: true,
    includeAll: true,
    current: { text: "All", value: "$__all" },
    sort: 1,
  };
}

/** The selector every dashboard query uses: virtwork VMs of the chosen namespaces, runs and VMs. */
function dashboardSelector(workload?: string): string[] {
  return [
    eq(L.managedBy, APP),
    re("namespace", "$namespace"),
    re(L.runId, "$run"),
    re("name", "$vm"),
    ...(workload ? [eq(L.component, workload)] : []),
  ];
}

const GRAFANA_UNIT: Record<Signal["unit"], string> = {
  cores: "short",
  "bytes/s": "Bps",
  "ops/s": "iops",
  ratio: "percentunit",
  bytes: "bytes",
};

export function dashboard(workloads: readonly Workload[] = BUILTIN_WORKLOADS): Dashboard {
  const panels: NonNullable<Dashboard["panels"]> = [];
  let id = 1;
  let y = 0;
  const aliveSel = dashboardSelector().join(",");
  panels.push({
    id: id++,
    type: "stat",
    title: "Running virtwork VMs per workload",
    datasource: DS,
    gridPos: { x: 0, y, w: 24, h: 4 },
    targets: [
      {
        refId: "A",
        datasource: DS,
        expr: `count by (${L.component}) (group by (namespace, name, ${L.component}) (${ALIVE_METRIC}{${aliveSel}}))`,
        legendFormat: `{{${L.component}}}`,
      },
    ],
    options: {
      reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
      textMode: "value_and_name",
    },
    fieldConfig: { defaults: { unit: "short" }, overrides: [] },
  });
  y += 4;
  for (const w of workloads) {
    const signals = w.signals ?? [];
    if (!signals.length) continue;
    panels.push({
      id: id++,
      type: "row",
      title: `${w.name}: ${w.description}`,
      collapsed: false,
      gridPos: { x: 0, y, w: 24, h: 1 },
      panels: [],
    });
    y += 1;
    const width = Math.max(6, Math.floor(24 / signals.length));
    signals.forEach((s, i) => {
      panels.push({
        id: id++,
        type: "timeseries",
        title: `${s.name} per VM (signal ≥ ${formatValue(s.min, s.unit)})`,
        description: `${s.description}. ${s.metric}${s.of ? ` / ${s.of}` : ""}; the red line is the threshold virtwork verify and the ${ALERT} alert use.`,
        datasource: DS,
        gridPos: { x: (i * width) % 24, y, w: width, h: 8 },
        targets: [
          {
            refId: "A",
            datasource: DS,
            expr: signalExpr(s, dashboardSelector(w.name), ["namespace", "name"]),
            legendFormat: "{{namespace}}/{{name}}",
          },
        ],
        fieldConfig: {
          defaults: {
            unit: GRAFANA_UNIT[s.unit],
            min: 0,
            custom: { thresholdsStyle: { mode: "line" } },
            thresholds: {
              // the enum's value; a type-only import cannot name the member
              mode: "absolute" as ThresholdsMode,
              steps: [
                { color: "red", value: null },
                { color: "green", value: s.min },
              ],
            },
          },
          overrides: [],
        },
        options: { legend: { displayMode: "table", placement: "right", calcs: ["lastNotNull"] } },
      });
    });
    y += 8;
  }
  return {
    title: "virtwork: workload signals",
    uid: "virtwork-signals",
    description:
      "What each virtwork workload makes visible in KubeVirt's per-VMI metrics, per VM, with the thresholds `virtwork verify` and the VirtworkSignalMissing alerts use.",
    tags: ["virtwork", "kubevirt"],
    timezone: "browser",
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: "30s",
    time: { from: "now-1h", to: "now" },
    templating: {
      list: [
        {
          name: "datasource",
          label: "Data source",
          type: "datasource",
          query: "prometheus",
          current: { text: "default", value: "default" },
        },
        variable(
          "namespace",
          "Namespace",
          `label_values(${ALIVE_METRIC}{${eq(L.managedBy, APP)}}, namespace)`,
        ),
        variable(
          "run",
          "Run",
          `label_values(${ALIVE_METRIC}{${eq(L.managedBy, APP)},${re("namespace", "$namespace")}}, ${L.runId})`,
        ),
        variable(
          "vm",
          "VM",
          `label_values(${ALIVE_METRIC}{${eq(L.managedBy, APP)},${re("namespace", "$namespace")},${re(L.runId, "$run")}}, name)`,
        ),
      ],
    },
    annotations: { list: [] },
    panels,
  };
}

/** Every PromQL expression the dashboard holds (for promtool syntax checks). */
export function dashboardExprs(d: Dashboard): string[] {
  const out: string[] = [];
  for (const p of d.panels ?? []) {
    for (const t of (p as { targets?: { expr?: string }[] }).targets ?? []) if (t.expr) out.push(t.expr);
  }
  for (const v of d.templating?.list ?? []) {
    const q = typeof v.query === "object" ? (v.query as { query?: string }).query : undefined;
    const m = q ? /^label_values\((.*), [a-z_]+\)$/.exec(q) : null;
    if (m?.[1]) out.push(m[1]);
  }
  return out;
}

const HEADER =
  "# Generated by scripts/render-monitoring.ts from the workloads' signals (src/workloads/builtin/*.ts).\n# Do not edit: change the signal, then run `make monitoring-render`.\n";

export function renderedFiles(): Record<string, string> {
  return {
    "prometheusrule.yaml": HEADER + stringify(prometheusRule(), { lineWidth: 0 }),
    "grafana-dashboard.json": `${JSON.stringify(dashboard(), null, 2)}\n`,
    "tests/signals.test.yaml": HEADER + stringify(ruleTests(), { lineWidth: 0 }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes("--check");
  let stale = 0;
  for (const [name, text] of Object.entries(renderedFiles())) {
    const path = join(MONITORING_DIR, name);
    if (check) {
      let current = "";
      try {
        current = readFileSync(path, "utf8");
      } catch {}
      if (current !== text) {
        console.error(`deploy/monitoring/${name} is stale: run make monitoring-render`);
        stale++;
      }
    } else {
      writeFileSync(path, text);
      console.error(`wrote deploy/monitoring/${name}`);
    }
  }
  process.exit(stale ? 1 : 0);
}
