import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  assertAccepted,
  assertBashSyntax,
  assertCommonUnit,
  assertRejected,
  assertRestarts,
  assertRuncmd,
  buildWorkload,
  fileAt,
  roleUserData,
  unitAt,
  unitValue,
  unitValues,
} from "../testing.ts";
import { chaosProcess, EXCLUDED_PROCESSES } from "./chaos-process.ts";

const UNIT_PATH = "/etc/systemd/system/virtwork-chaos-process.service";
const SCRIPT = "/usr/local/bin/chaos-process.sh";

/** The unit's Environment= entries as a map (values are quoted "KEY=value"). */
function environment(params?: Record<string, string>): Record<string, string> {
  const unit = unitAt(roleUserData(buildWorkload(chaosProcess, params ? { params } : {})), UNIT_PATH);
  return Object.fromEntries(
    unitValues(unit, "Service", "Environment").map((v) => {
      const match = /^"([A-Z_]+)=(.*)"$/.exec(v);
      assert.ok(match, `Environment value is quoted KEY=value: ${v}`);
      return [match[1], match[2]];
    }),
  );
}

describe("chaos-process workload", () => {
  it("is opt-in and declares its params with types and defaults", () => {
    assert.equal(chaosProcess.name, "chaos-process");
    assert.equal(chaosProcess.optIn, true);
    assert.deepEqual(
      chaosProcess.params.map((p) => [p.name, p.type, p.default]),
      [
        ["signal", "string", "SIGTERM"],
        ["interval", "int", "30"],
        ["min-pid", "int", "1000"],
      ],
    );
  });

  it("installs procps and writes the script and the unit, then enables it", () => {
    const output = buildWorkload(chaosProcess);
    assert.deepEqual(output.dataDisks, []);
    assert.equal(output.service, undefined);
    const doc = roleUserData(output);
    assert.deepEqual(doc.packages, ["procps-ng"]);
    assert.deepEqual(
      doc.write_files.map((f) => [f.path, f.permissions]),
      [
        [SCRIPT, "0755"],
        [UNIT_PATH, "0644"],
      ],
    );
    assertRuncmd(doc, "virtwork-chaos-process.service");
    const script = fileAt(doc, SCRIPT).content;
    assertBashSyntax(script, SCRIPT);
    for (const name of ["sshd", "systemd", "cloud-init", "virtwork-.*"]) {
      assert.ok(EXCLUDED_PROCESSES.includes(name), `${name} is never signalled`);
    }
    assert.ok(script.includes(`EXCLUDE='^(${EXCLUDED_PROCESSES.join("|")})$'`), "whole-name exclusion");
  });

  it("renders the unit", () => {
    const unit = unitAt(roleUserData(buildWorkload(chaosProcess)), UNIT_PATH);
    assertCommonUnit(unit, "Virtwork chaos-process workload");
    assert.equal(unitValue(unit, "Unit", "After"), "network.target");
    assert.equal(unitValue(unit, "Service", "ExecStart"), SCRIPT);
    assert.equal(unitValue(unit, "Service", "StandardOutput"), "journal");
    assert.equal(unitValue(unit, "Service", "StandardError"), "journal");
    assertRestarts(unit);
  });

  it("uses the defaults when no params are given", () => {
    assert.deepEqual(environment(), {
      CHAOS_SIGNAL: "SIGTERM",
      CHAOS_INTERVAL: "30",
      CHAOS_MIN_PID: "1000",
    });
  });

  it("puts every overridden param in its place", () => {
    assert.deepEqual(environment({ signal: "SIGKILL", interval: "5", "min-pid": "500" }), {
      CHAOS_SIGNAL: "SIGKILL",
      CHAOS_INTERVAL: "5",
      CHAOS_MIN_PID: "500",
    });
  });

  it("mixes overridden params with defaults", () => {
    assert.deepEqual(environment({ interval: "120" }), {
      CHAOS_SIGNAL: "SIGTERM",
      CHAOS_INTERVAL: "120",
      CHAOS_MIN_PID: "1000",
    });
  });

  it("validates its params", () => {
    for (const ok of ["SIGKILL", "SIGHUP", "SIGUSR1"]) assertAccepted(chaosProcess, "signal", ok);
    for (const bad of ["TERM", "sigterm", "SIGFOO", "9", "SIGTERM; reboot"]) {
      assertRejected(chaosProcess, "signal", bad);
    }
    for (const bad of ["0", "-10", "1.5"]) assertRejected(chaosProcess, "interval", bad);
    assertAccepted(chaosProcess, "min-pid", "2");
    for (const bad of ["1", "0", "-1"]) assertRejected(chaosProcess, "min-pid", bad);
  });
});
