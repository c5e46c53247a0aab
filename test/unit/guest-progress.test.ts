/**
 * The booted-guest suite's progress waits (test/guest/boot/progress.ts) and boot gate
 * (pace.ts), on real files and timers: a guest whose console keeps growing is waited for past
 * the stall period; a silent one fails after it, with its last console lines; a dead one at once.
 */
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { BootGate, bootTarget } from "../guest/boot/pace.ts";
import { untilProgress } from "../guest/boot/progress.ts";
import type { Vm } from "../guest/boot/qemu.ts";

const dir = mkdtempSync(join(tmpdir(), "virtwork-progress-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The parts of a Vm the waits read: its console file, whether qemu runs, the agent's state. */
function guest(name: string, running = () => true): Vm {
  const console = join(dir, `${name}.log`);
  writeFileSync(console, "");
  return {
    spec: { name },
    agent: { answered: false },
    get running() {
      return running();
    },
    consoleBytes: () => statSync(console).size,
    consoleTail: (n = 15) => `tail(${n}) of ${name}`,
    console,
  } as unknown as Vm;
}

test("a guest whose console keeps growing is waited for beyond the stall period", async () => {
  const vm = guest("growing");
  const t0 = Date.now();
  const timer = setInterval(() => appendFileSync(vm.console, "line\n"), 100);
  try {
    const v = await untilProgress({
      what: "done",
      vms: [vm],
      stallSeconds: 2,
      hardSeconds: 60,
      intervalMs: 100,
      poll: async () => (Date.now() - t0 > 5000 ? "ok" : undefined),
    });
    assert.equal(v, "ok");
    assert.ok(Date.now() - t0 >= 5000, "waited beyond twice the stall period");
  } finally {
    clearInterval(timer);
  }
});

test("a silent guest fails after the stall period, with its console tail and the last poll error", async () => {
  const vm = guest("silent");
  const t0 = Date.now();
  await assert.rejects(
    untilProgress({
      what: "silent: cloud-init to finish",
      vms: [vm],
      stallSeconds: 1,
      hardSeconds: 60,
      intervalMs: 100,
      poll: async () => {
        throw new Error("agent: no answer");
      },
    }),
    (err: Error) => {
      assert.match(
        err.message,
        /^silent: cloud-init to finish: gave up after \d+s: no progress for \ds \(stall limit 1s/,
      );
      assert.match(err.message, /last poll error: agent: no answer/);
      assert.match(err.message, /--- silent: last console lines ---\ntail\(15\) of silent/);
      return true;
    },
  );
  const waited = Date.now() - t0;
  assert.ok(waited >= 1000 && waited < 10_000, `failed after the stall, not at once or never (${waited} ms)`);
});

test("an extra sign (cloud-init's stage) counts as progress and is reported", async () => {
  const vm = guest("staged");
  const stages: string[] = [];
  let n = 0;
  const t0 = Date.now();
  const v = await untilProgress({
    what: "staged",
    vms: [vm],
    stallSeconds: 1,
    hardSeconds: 60,
    intervalMs: 100,
    poll: async () => (Date.now() - t0 > 2500 ? "done" : undefined),
    sign: async () => `"stage":"s${Math.floor(n++ / 5)}"`,
    onSign: (_vm, s) => stages.push(s),
  });
  assert.equal(v, "done");
  assert.ok(stages.length >= 3, `stages seen: ${stages.join(", ")}`);
});

test("a guest whose qemu exited fails at once", async () => {
  const vm = guest("dead", () => false);
  await assert.rejects(
    untilProgress({
      what: "dead",
      vms: [vm],
      stallSeconds: 60,
      hardSeconds: 60,
      poll: async () => undefined,
    }),
    /qemu of dead exited/,
  );
});

test("boot gate: at least one guest, never more than the fixed target at once", async () => {
  assert.ok(bootTarget(0).target >= 1);
  process.env.VIRTWORK_GUEST_PARALLEL = "2";
  try {
    assert.equal(bootTarget(5).target, 2);
    const gate = new BootGate(0);
    let running = 0;
    let most = 0;
    await Promise.all(
      [1, 1, 1, 2, 1].map(async (vms) => {
        const slot = await gate.acquire(vms);
        running += vms;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 50));
        running -= vms;
        slot.release();
      }),
    );
    assert.equal(most, 2);
  } finally {
    delete process.env.VIRTWORK_GUEST_PARALLEL;
  }
});
