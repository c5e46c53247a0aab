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
import { memory } from "./memory.ts";

const UNIT_PATH = "/etc/systemd/system/virtwork-memory.service";

function execStart(params?: Record<string, string>): string[] {
  const doc = roleUserData(buildWorkload(memory, params ? { params } : {}));
  return unitValue(unitAt(doc, UNIT_PATH), "Service", "ExecStart").split(" ");
}

const after = (argv: string[], flag: string) => argv[argv.indexOf(flag) + 1];

describe("memory workload", () => {
  it("declares its params with types and defaults", () => {
    assert.equal(memory.name, "memory");
    assert.equal(memory.optIn, false);
    assert.deepEqual(
      memory.params.map((p) => [p.name, p.type, p.default]),
      [
        ["memory-percent", "int", "80"],
        ["vm-stressors", "int", "1"],
        ["vm-method", "string", "all"],
      ],
    );
  });

  it("renders packages, one unit file and runcmd", () => {
    const output = buildWorkload(memory);
    assert.equal(output.roles.length, 1);
    assert.deepEqual(output.dataDisks, []);
    assert.equal(output.service, undefined);
    const doc = roleUserData(output);
    assert.deepEqual(doc.packages, ["stress-ng"]);
    assert.deepEqual(
      doc.write_files.map((f) => [f.path, f.permissions]),
      [[UNIT_PATH, "0644"]],
    );
    const unit = unitAt(doc, UNIT_PATH);
    assertCommonUnit(unit, "Virtwork memory stress workload");
    assert.equal(unitValue(unit, "Unit", "After"), "network.target");
    assert.equal(unitValue(unit, "Service", "Type"), "simple");
    assertRestarts(unit);
    assertRuncmd(doc, "virtwork-memory.service");
  });

  it("uses the defaults when no params are given", () => {
    assert.deepEqual(execStart(), [
      "/usr/bin/stress-ng",
      "--vm",
      "1",
      "--vm-bytes",
      "80%",
      "--vm-method",
      "all",
      "--timeout",
      "0",
    ]);
  });

  it("puts every overridden param in its place", () => {
    const argv = execStart({ "memory-percent": "50", "vm-stressors": "4", "vm-method": "flip" });
    assert.equal(after(argv, "--vm"), "4");
    assert.equal(after(argv, "--vm-bytes"), "50%");
    assert.equal(after(argv, "--vm-method"), "flip");
    assert.equal(after(argv, "--timeout"), "0");
  });

  it("mixes overridden params with defaults", () => {
    const argv = execStart({ "memory-percent": "60" });
    assert.equal(after(argv, "--vm"), "1");
    assert.equal(after(argv, "--vm-bytes"), "60%");
    assert.equal(after(argv, "--vm-method"), "all");
  });

  it("validates its params", () => {
    assertAccepted(memory, "memory-percent", "1");
    assertAccepted(memory, "memory-percent", "100");
    for (const bad of ["0", "101", "80%", "7.5"]) assertRejected(memory, "memory-percent", bad);
    assertAccepted(memory, "vm-stressors", "1024");
    for (const bad of ["0", "1025", "-2"]) assertRejected(memory, "vm-stressors", bad);
    assertAccepted(memory, "vm-method", "zero-one");
    for (const bad of ["Flip", "flip all", "flip;id"]) assertRejected(memory, "vm-method", bad);
  });
});
