import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  assertAccepted,
  assertBashSyntax,
  assertCommonUnit,
  assertRejected,
  buildWorkload,
  fileAt,
  roleUserData,
  unitAt,
  unitValue,
  unitValues,
} from "../testing.ts";
import { chaosNetwork } from "./chaos-network.ts";

const UNIT_PATH = "/etc/systemd/system/virtwork-chaos-network.service";
const START = "/usr/local/bin/virtwork-chaos-network-start.sh";
const STOP = "/usr/local/bin/virtwork-chaos-network-stop.sh";

function render(params?: Record<string, string>) {
  const doc = roleUserData(buildWorkload(chaosNetwork, params ? { params } : {}));
  return { doc, start: fileAt(doc, START).content, stop: fileAt(doc, STOP).content };
}

/** The argv of the `tc qdisc replace … netem …` line of the start script. */
function netem(start: string): string[] {
  const line = start.split("\n").find((l) => l.startsWith("/usr/sbin/tc qdisc replace"));
  assert.ok(line, "start script adds the netem qdisc with /usr/sbin/tc");
  return line.split(" ");
}

const after = (argv: string[], flag: string) => argv[argv.indexOf(flag) + 1];

describe("chaos-network workload", () => {
  it("is opt-in and declares its params with types and defaults", () => {
    assert.equal(chaosNetwork.name, "chaos-network");
    assert.equal(chaosNetwork.optIn, true);
    assert.deepEqual(
      chaosNetwork.params.map((p) => [p.name, p.type, p.default]),
      [
        ["latency-ms", "int", "100"],
        ["packet-loss-percent", "string", "5.0"],
      ],
    );
  });

  it("installs tc and writes start and stop scripts and the unit", () => {
    const { doc, start, stop } = render();
    assert.deepEqual(doc.packages, ["iproute-tc"]);
    assert.deepEqual(
      doc.write_files.map((f) => [f.path, f.permissions]),
      [
        [START, "0755"],
        [STOP, "0755"],
        [UNIT_PATH, "0644"],
      ],
    );
    assertBashSyntax(start, START);
    assertBashSyntax(stop, STOP);
    assert.match(stop, /^\/usr\/sbin\/tc qdisc del dev "\$DEV" root 2>\/dev\/null \|\| true$/m);
    assert.deepEqual(buildWorkload(chaosNetwork).dataDisks, []);
    assert.equal(buildWorkload(chaosNetwork).service, undefined);
  });

  it("loads the netem kernel modules before daemon-reload and enable --now", () => {
    assert.deepEqual(render().doc.runcmd, [
      ["bash", "-c", 'dnf install -y "kernel-modules-extra-$(uname -r)" || true'],
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "virtwork-chaos-network.service"],
    ]);
  });

  it("keeps the qdisc until stopped: Type=oneshot, RemainAfterExit=yes, no Restart", () => {
    const unit = unitAt(render().doc, UNIT_PATH);
    assertCommonUnit(unit, "Virtwork network chaos workload (tc/netem)");
    assert.equal(unitValue(unit, "Service", "Type"), "oneshot");
    assert.equal(unitValue(unit, "Service", "RemainAfterExit"), "yes");
    assert.deepEqual(unitValues(unit, "Service", "Restart"), []);
    assert.deepEqual(unitValues(unit, "Service", "RestartSec"), []);
    assert.equal(unitValue(unit, "Service", "ExecStart"), START);
    assert.equal(unitValue(unit, "Service", "ExecStop"), STOP);
    assert.equal(unitValue(unit, "Unit", "After"), "network-online.target");
    assert.equal(unitValue(unit, "Unit", "Wants"), "network-online.target");
  });

  it("uses the defaults when no params are given", () => {
    const argv = netem(render().start);
    assert.deepEqual(argv.slice(argv.indexOf("root")), [
      "root",
      "netem",
      "delay",
      "100ms",
      "loss",
      "5.0%",
      "limit",
      "1000",
    ]);
  });

  it("puts every overridden param in its place", () => {
    const argv = netem(render({ "latency-ms": "250", "packet-loss-percent": "12.5" }).start);
    assert.equal(after(argv, "delay"), "250ms");
    assert.equal(after(argv, "loss"), "12.5%");
  });

  it("mixes overridden params with defaults", () => {
    const argv = netem(render({ "packet-loss-percent": "0" }).start);
    assert.equal(after(argv, "delay"), "100ms");
    assert.equal(after(argv, "loss"), "0%");
  });

  it("validates its params", () => {
    assertAccepted(chaosNetwork, "latency-ms", "0");
    assertAccepted(chaosNetwork, "latency-ms", "60000");
    for (const bad of ["-1", "60001", "100ms", "1.5"]) assertRejected(chaosNetwork, "latency-ms", bad);
    for (const ok of ["0", "100", "0.5", "99.99"]) assertAccepted(chaosNetwork, "packet-loss-percent", ok);
    for (const bad of ["abc", "101", "100.5", "5%", "-1", ".5", "5.", "1e2"]) {
      assertRejected(chaosNetwork, "packet-loss-percent", bad);
    }
  });
});
