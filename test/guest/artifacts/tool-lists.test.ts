/**
 * The fixed lists built-in params are checked against are the tools' own (issue 15):
 * every listed stress-ng method and fio engine is accepted by the real stress-ng and fio
 * (Debian's packages, the oldest of the supported guests), and what the lists refuse
 * (`bogus`) the tools refuse too, so a refused value is one that would have failed in the guest.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BUILTIN_WORKLOADS } from "../../../src/workloads/registry.ts";
import { FIO_IOENGINES, STRESS_CPU_METHODS, STRESS_VM_METHODS } from "../../../src/workloads/tool-lists.ts";
import { needTools, runSync, tempDir } from "./tools.ts";

/** `cpu-method must be one of: all ackermann …` → the names. */
function stressList(flag: "--cpu-method" | "--vm-method"): string[] {
  const r = runSync("stress-ng", [flag, "which"]);
  const line = `${r.stdout}${r.stderr}`.split("\n").find((l) => l.includes("must be one of:")) ?? "";
  return line.split("must be one of:")[1]?.trim().split(/\s+/) ?? [];
}

describe("stress-ng methods", { skip: needTools("stress-ng") }, () => {
  for (const [flag, list, stressor] of [
    ["--cpu-method", STRESS_CPU_METHODS, "--cpu"],
    ["--vm-method", STRESS_VM_METHODS, "--vm"],
  ] as const) {
    test(`every ${flag} virtwork accepts is one stress-ng lists`, () => {
      const real = stressList(flag);
      assert.ok(real.length > 20, `stress-ng ${flag} which: ${real.length} names`);
      assert.deepEqual(
        list.filter((m) => !real.includes(m)),
        [],
      );
    });
    test(`stress-ng runs each of them (dry run), and refuses bogus`, () => {
      for (const method of list) {
        const r = runSync("stress-ng", [stressor, "1", flag, method, "--dry-run"]);
        assert.equal(r.code, 0, `${flag} ${method}: ${r.stderr}`);
      }
      assert.notEqual(runSync("stress-ng", [stressor, "1", flag, "bogus", "--dry-run"]).code, 0);
    });
  }
});

describe("fio engines", { skip: needTools("fio") }, () => {
  test("every ioengine virtwork accepts is one fio lists, and a tiny job runs with it", () => {
    const listed = runSync("fio", ["--enghelp"])
      .stdout.split("\n")
      .map((l) => l.trim());
    assert.deepEqual(
      FIO_IOENGINES.filter((e) => !listed.includes(e)),
      [],
    );
    assert.ok(!listed.includes("bogus"));
    const dir = tempDir("fio");
    try {
      for (const engine of FIO_IOENGINES) {
        const r = runSync("fio", [
          "--name=t",
          `--ioengine=${engine}`,
          `--directory=${dir.path}`,
          "--size=256k",
          "--rw=randrw",
          "--bs=4k",
        ]);
        assert.equal(r.code, 0, `${engine}: ${r.stdout}${r.stderr}`);
      }
      const bogus = runSync("fio", ["--name=t", "--ioengine=bogus", `--directory=${dir.path}`, "--size=4k"]);
      assert.notEqual(bogus.code, 0);
    } finally {
      dir.remove();
    }
  });
});

describe("the built-in params use the lists", () => {
  test("cpu-method, vm-method and ioengine accept the list and refuse bogus", () => {
    const spec = (w: string, p: string) =>
      BUILTIN_WORKLOADS.find((x) => x.name === w)?.params.find((x) => x.name === p);
    for (const [w, p, list] of [
      ["cpu", "cpu-method", STRESS_CPU_METHODS],
      ["memory", "vm-method", STRESS_VM_METHODS],
      ["disk", "ioengine", FIO_IOENGINES],
    ] as const) {
      const check = spec(w, p)?.check;
      assert.ok(check, `${w}.${p} has a check`);
      for (const v of list) assert.equal(check(v), undefined, `${w}.${p}=${v}`);
      assert.match(check("bogus") ?? "", /must be/);
    }
  });
});
