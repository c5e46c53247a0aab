import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { appliesTo, signalExpr } from "../signals.ts";
import { parseManifest } from "./manifest.ts";
import { formatProblem } from "./problems.ts";

const FILE = "cat/e/workload.yaml";
const ROLES = "roles:\n  - {name: server}\n  - {name: client}\n";

function problems(text: string): string {
  const r = parseManifest(text, FILE);
  assert.equal(r.manifest, undefined, "manifest should be rejected");
  return r.problems.map(formatProblem).join("\n");
}

describe("catalog signals:", () => {
  it("parses a signal in the built-ins' shape and restricts it to its roles", () => {
    const r = parseManifest(
      `${ROLES}signals:\n  - {name: http-tx, kind: rate, metric: kubevirt_vmi_network_transmit_bytes_total, min: 1024, unit: bytes/s, roles: [server], labels: {interface: default}}\n`,
      FILE,
    );
    assert.deepEqual(r.problems, []);
    const [s] = r.manifest?.signals ?? [];
    assert.ok(s);
    assert.deepEqual(s.roles, ["server"]);
    assert.ok(appliesTo(s, "server"));
    assert.ok(!appliesTo(s, "client"));
    assert.equal(
      signalExpr(s, ['namespace="ns"', 'name="vm"'], ["namespace", "name"]),
      'sum by (namespace, name) (rate(kubevirt_vmi_network_transmit_bytes_total{namespace="ns",name="vm",interface="default"}[2m]))',
    );
  });

  const REJECTED: [string, string, RegExp][] = [
    [
      "a metric outside kubevirt_vmi_*",
      "signals: [{name: a, metric: up, min: 1, unit: ops/s}]",
      /kubevirt_vmi_\* metric name/,
    ],
    [
      "a PromQL injection in the metric",
      'signals: [{name: a, metric: "kubevirt_vmi_x} or vector(1) #", min: 1, unit: ops/s}]',
      /kubevirt_vmi_\*/,
    ],
    [
      "an unknown kind",
      "signals: [{name: a, kind: rat, metric: kubevirt_vmi_x, min: 1, unit: ops/s}]",
      /signals\[0\]\.kind: must be one of rate, gauge, ratio, peak-ratio \(did you mean "rate"\?\)/,
    ],
    [
      "an unknown unit",
      "signals: [{name: a, metric: kubevirt_vmi_x, min: 1, unit: furlongs}]",
      /signals\[0\]\.unit: must be one of/,
    ],
    [
      "a min that is not a number",
      "signals: [{name: a, metric: kubevirt_vmi_x, min: lots, unit: ops/s}]",
      /signals\[0\]\.min: must be a number/,
    ],
    [
      "a ratio without its denominator",
      "signals: [{name: a, kind: ratio, metric: kubevirt_vmi_x, min: 1, unit: ratio}]",
      /of \(the denominator metric\) is required/,
    ],
    [
      "matching on the VM's own name label",
      "signals: [{name: a, metric: kubevirt_vmi_x, min: 1, unit: ops/s, labels: {name: x}}]",
      /label name is not a label a signal may match on/,
    ],
    [
      "an unknown key",
      "signals: [{name: a, metric: kubevirt_vmi_x, min: 1, unit: ops/s, treshold: 2}]",
      /unknown key \(did you mean "threshold"|unknown key/,
    ],
    [
      "a role the entry does not declare",
      `${ROLES}signals: [{name: a, metric: kubevirt_vmi_x, min: 1, unit: ops/s, roles: [srv]}]`,
      /"srv" is not a declared role; roles: server, client/,
    ],
    [
      "a bad window",
      "signals: [{name: a, metric: kubevirt_vmi_x, min: 1, unit: ops/s, window: soon}]",
      /window must look like 2m/,
    ],
    [
      "two signals with one name",
      "signals: [{name: a, metric: kubevirt_vmi_x, min: 1, unit: ops/s}, {name: a, metric: kubevirt_vmi_y, min: 1, unit: ops/s}]",
      /duplicate signal "a"/,
    ],
  ];
  for (const [what, text, expected] of REJECTED) {
    it(`rejects ${what}`, () => assert.match(problems(`${text}\n`), expected));
  }
});
