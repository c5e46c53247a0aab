import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  assertAccepted,
  assertCommonUnit,
  assertRejected,
  assertRestarts,
  assertRuncmd,
  buildWorkload,
  roleUserData,
  unitAt,
  unitValue,
} from "../testing.ts";
import { cpu } from "./cpu.ts";

const UNIT_PATH = "/etc/systemd/system/virtwork-cpu.service";

function execStart(params?: Record<string, string>): string[] {
  const doc = roleUserData(buildWorkload(cpu, params ? { params } : {}));
  return unitValue(unitAt(doc, UNIT_PATH), "Service", "ExecStart").split(" ");
}

describe("cpu workload", () => {
  it("declares its params with types and defaults", () => {
    assert.equal(cpu.name, "cpu");
    assert.equal(cpu.optIn, false);
    assert.deepEqual(
      cpu.params.map((p) => [p.name, p.type, p.default]),
      [
        ["cpu-load-percent", "int", "100"],
        ["cpu-method", "string", "all"],
      ],
    );
  });

  it("renders packages, one unit file and runcmd", () => {
    const output = buildWorkload(cpu);
    assert.equal(output.roles.length, 1);
    assert.equal(output.roles[0]?.role, undefined);
    assert.deepEqual(output.dataDisks, []);
    assert.equal(output.service, undefined);

    const doc = roleUserData(output);
    assert.deepEqual(doc.packages, ["stress-ng"]);
    assert.deepEqual(
      doc.write_files.map((f) => [f.path, f.permissions]),
      [[UNIT_PATH, "0644"]],
    );
    const unit = unitAt(doc, UNIT_PATH);
    assertCommonUnit(unit, "Virtwork CPU stress workload");
    assert.equal(unitValue(unit, "Unit", "After"), "network.target");
    assert.equal(unitValue(unit, "Service", "Type"), "simple");
    assertRestarts(unit);
    assertRuncmd(doc, "virtwork-cpu.service");
    assert.equal(doc.users, undefined, "no users block without SSH credentials");
  });

  it("uses the defaults when no params are given", () => {
    assert.deepEqual(execStart(), [
      "/usr/bin/stress-ng",
      "--cpu",
      "0",
      "--cpu-load",
      "100",
      "--cpu-method",
      "all",
      "--timeout",
      "0",
    ]);
  });

  it("puts every overridden param in its place", () => {
    assert.deepEqual(execStart({ "cpu-load-percent": "55", "cpu-method": "matrixprod" }), [
      "/usr/bin/stress-ng",
      "--cpu",
      "0",
      "--cpu-load",
      "55",
      "--cpu-method",
      "matrixprod",
      "--timeout",
      "0",
    ]);
  });

  it("mixes overridden params with defaults", () => {
    const argv = execStart({ "cpu-method": "fft" });
    assert.equal(argv[argv.indexOf("--cpu-load") + 1], "100");
    assert.equal(argv[argv.indexOf("--cpu-method") + 1], "fft");
  });

  it("validates its params", () => {
    assertAccepted(cpu, "cpu-load-percent", "0");
    assertAccepted(cpu, "cpu-load-percent", "100");
    // "" too: `cpu-load-percent=` is a forgotten value, not the default (it used to run at 100 %)
    for (const bad of ["101", "-1", "2.5", "fifty", "50%", ""]) assertRejected(cpu, "cpu-load-percent", bad);
    assertAccepted(cpu, "cpu-method", "matrixprod");
    for (const bad of ["all; reboot", "ALL", "a b", "$(id)"]) assertRejected(cpu, "cpu-method", bad);
  });
});
