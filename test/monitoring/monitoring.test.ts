/**
 * deploy/monitoring/ checked by the real tools: `promtool check rules` on the PrometheusRule's
 * groups, `promtool test rules` on the generated unit tests (each alert fires for a silent VM
 * and stays silent for a healthy one, and resolves after cleanup), and the Grafana dashboard
 * against Grafana's published dashboard schema (tsc checks scripts/render-monitoring.ts
 * against @grafana/schema's Dashboard type in `make lint`) plus structural checks here; its
 * PromQL is parsed by promtool too. Each check is also shown to fail on a broken input.
 * Run by `make monitoring-test` (installs Debian's prometheus package for promtool).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse, stringify } from "yaml";
import {
  ALERT,
  type dashboard,
  dashboardExprs,
  MONITORING_DIR,
  renderedFiles,
} from "../../scripts/render-monitoring.ts";
import { BUILTIN_WORKLOADS } from "../../src/workloads/registry.ts";

const promtool = (args: string[], cwd: string) => {
  const r = spawnSync("promtool", args, { cwd, encoding: "utf8" });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}

const ruleObject = parse(readFileSync(join(MONITORING_DIR, "prometheusrule.yaml"), "utf8")) as {
  kind: string;
  spec: RuleFile;
};

/** A scratch dir with the rule groups as a plain Prometheus rule file and the unit tests. */
function scratch(spec: RuleFile = ruleObject.spec): string {
  const dir = mkdtempSync(join(tmpdir(), "virtwork-promtool-"));
  writeFileSync(join(dir, "rules.yaml"), stringify(spec));
  copyFileSync(join(MONITORING_DIR, "tests", "signals.test.yaml"), join(dir, "signals.test.yaml"));
  return dir;
}

describe("deploy/monitoring", () => {
  test("the committed files are what scripts/render-monitoring.ts renders from the workloads' signals", () => {
    for (const [name, text] of Object.entries(renderedFiles())) {
      assert.equal(
        readFileSync(join(MONITORING_DIR, name), "utf8"),
        text,
        `${name} is stale: make monitoring-render`,
      );
    }
  });

  test("every built-in workload declares signals, and each has exactly one alert rule", () => {
    const rules = ruleObject.spec.groups.flatMap((g) => g.rules);
    assert.equal(ruleObject.kind, "PrometheusRule");
    for (const w of BUILTIN_WORKLOADS) {
      assert.ok(w.signals?.length, `${w.name} declares signals`);
      for (const s of w.signals ?? []) {
        const found = rules.filter((r) => r.labels?.workload === w.name && r.labels?.signal === s.name);
        assert.equal(found.length, 1, `${w.name}/${s.name} has one rule`);
        assert.equal(found[0]?.alert, ALERT);
        assert.match(found[0]?.expr ?? "", new RegExp(s.metric));
        assert.match(found[0]?.expr ?? "", new RegExp(`>= ${s.min}\\)$`));
      }
    }
  });

  test("promtool check rules accepts the rules and rejects a broken expression", () => {
    const ok = promtool(["check", "rules", "rules.yaml"], scratch());
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /SUCCESS: \d+ rules found/);
    const broken = structuredClone(ruleObject.spec);
    const first = broken.groups[0]?.rules[0];
    assert.ok(first);
    first.expr = first.expr.replace("unless on", "unless onn");
    const bad = promtool(["check", "rules", "rules.yaml"], scratch(broken));
    assert.notEqual(bad.code, 0, "a broken expression must fail the check");
  });

  test("promtool test rules: silent VMs fire, healthy ones stay silent, deleted ones resolve", () => {
    const ok = promtool(["test", "rules", "signals.test.yaml"], scratch());
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /SUCCESS/);
  });

  test("the unit tests catch a rule that would fire for healthy VMs or never hold", () => {
    // threshold far above what the healthy VMs produce: their alerts fire too
    const tooHigh = structuredClone(ruleObject.spec);
    for (const r of tooHigh.groups[0]?.rules ?? []) r.expr = r.expr.replace(/>= [0-9.e+-]+\)$/, ">= 1e15)");
    assert.notEqual(promtool(["test", "rules", "signals.test.yaml"], scratch(tooHigh)).code, 0);
    // no hold time: alerts fire at 5m already
    const noHold = structuredClone(ruleObject.spec);
    for (const r of noHold.groups[0]?.rules ?? []) delete r.for;
    assert.notEqual(promtool(["test", "rules", "signals.test.yaml"], scratch(noHold)).code, 0);
  });
});

describe("grafana dashboard", () => {
  const json = JSON.parse(readFileSync(join(MONITORING_DIR, "grafana-dashboard.json"), "utf8")) as ReturnType<
    typeof dashboard
  >;

  test("has the namespace, run and VM variables, and every $variable used is defined", () => {
    const names = (json.templating?.list ?? []).map((v) => v.name);
    for (const v of ["datasource", "namespace", "run", "vm"]) assert.ok(names.includes(v), `variable ${v}`);
    const used = new Set([...JSON.stringify(json.panels).matchAll(/\$\{?([a-z_]+)\}?/g)].map((m) => m[1]));
    for (const u of used) if (!u?.startsWith("__")) assert.ok(names.includes(u ?? ""), `$${u} is defined`);
  });

  test("one panel per workload signal, unique ids, no two panels overlap", () => {
    const panels = json.panels ?? [];
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, "unique panel ids");
    const cells = new Set<string>();
    for (const p of panels) {
      const g = p.gridPos;
      assert.ok(g && g.x + g.w <= 24, `panel ${p.title} fits the 24-column grid`);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          assert.ok(!cells.has(`${x},${y}`), `panel ${p.title} overlaps another at ${x},${y}`);
          cells.add(`${x},${y}`);
        }
    }
    for (const w of BUILTIN_WORKLOADS)
      for (const s of w.signals ?? [])
        assert.ok(
          panels.some(
            (p) => p.title?.startsWith(`${s.name} per VM`) && JSON.stringify(p).includes(`\\"${w.name}\\"`),
          ),
          `panel for ${w.name}/${s.name}`,
        );
  });

  test("every query is valid PromQL (parsed by promtool), and a broken one is caught", () => {
    const exprs = dashboardExprs(json);
    assert.ok(exprs.length > 10);
    const asRules = (list: string[]): RuleFile => ({
      groups: [{ name: "dashboard", rules: list.map((expr, i) => ({ record: `dashboard:q${i}`, expr })) }],
    });
    const ok = promtool(["check", "rules", "rules.yaml"], scratch(asRules(exprs)));
    assert.equal(ok.code, 0, ok.out);
    const bad = promtool(["check", "rules", "rules.yaml"], scratch(asRules([`${exprs[0]})`])));
    assert.notEqual(bad.code, 0);
  });
});
