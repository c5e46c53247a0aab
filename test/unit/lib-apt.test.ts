/**
 * scripts/lib-apt.sh, the one way the project's scripts install Debian packages, against the
 * real apt: two clones running `make test` at once used to fail one of them ("E: Could not get
 * lock /var/lib/apt/lists/lock. It is held by process …" from install-shells while the other
 * clone's apt-get ran). Here the real lock is held the way apt holds it (fcntl, by another
 * process) and the helper must wait for it and then succeed; two helpers at once must queue on
 * virtwork's own lock; a lock that is never released must end in one clear failure.
 * Needs root and apt-get (the CI machine has both); under CI=true a machine without them fails.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ROOT } from "./cli.ts";

const LISTS_LOCK = "/var/lib/apt/lists/lock";
const root = process.getuid?.() === 0;
const hasApt = spawnSync("sh", ["-c", "command -v apt-get && command -v python3"]).status === 0;
const why = !root ? "needs root" : !hasApt ? "needs apt-get and python3" : "";
if (why && process.env.CI === "true") {
  test("lib-apt against the real apt", () => assert.fail(`CI=true and this machine cannot run it: ${why}`));
}

interface Run {
  child: ChildProcess;
  stderr: () => string;
  done: Promise<number>;
}

/** apt_install LABEL coreutils (installed already: apt-get update, then an install that is a no-op). */
function aptInstall(cache: string, label: string, env: Record<string, string> = {}): Run {
  let err = "";
  const child = spawn(
    "bash",
    [
      "-c",
      `set -euo pipefail; source "${ROOT}scripts/lib-apt.sh"; apt_install "$1" coreutils; echo installed`,
      "_",
      label,
    ],
    { env: { ...process.env, VIRTWORK_CACHE: cache, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const done = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  return { child, stderr: () => err, done };
}

/** Holds apt's lists lock with fcntl (as apt-get update takes it) until release() is called. */
async function holdListsLock(): Promise<{ release: () => Promise<void> }> {
  const holder = spawn(
    "python3",
    [
      "-c",
      `import fcntl, sys\nf = open(${JSON.stringify(LISTS_LOCK)}, "a")\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint("held", flush=True)\nsys.stdin.read()\n`,
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    holder.stdout?.on("data", (d) => String(d).includes("held") && resolve());
    holder.on("close", (code) => reject(new Error(`lock holder exited ${code}`)));
  });
  const closed = new Promise<void>((resolve) => holder.on("close", () => resolve()));
  return {
    release: async () => {
      holder.stdin?.end();
      await closed;
    },
  };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  // a loaded machine is slow, not stuck: wait on the event, with a generous backstop
  for (let i = 0; i < 1200 && !ok(); i++) await new Promise((r) => setTimeout(r, 250));
  assert.ok(ok(), `timed out waiting for: ${what}`);
}

describe("lib-apt: installs queue behind other apt runs instead of failing", { skip: why || false }, () => {
  test("apt's lists lock held by another process: waits, says so, then installs", async () => {
    const cache = mkdtempSync(join(tmpdir(), "virtwork-apt-"));
    const lock = await holdListsLock();
    const run = aptInstall(cache, "t-held");
    try {
      await until("the helper to report the held lock", () =>
        run.stderr().includes("another apt run holds apt's lock"),
      );
      // still waiting while the lock is held: it has not finished
      assert.equal(run.child.exitCode, null, run.stderr());
    } finally {
      await lock.release();
    }
    const code = await run.done;
    assert.equal(code, 0, run.stderr());
    assert.match(run.stderr(), /t-held: another apt run holds apt's lock \(held by process \d+/);
  });

  test("two installs at once: the second waits on virtwork's own lock; both succeed", async () => {
    const cache = mkdtempSync(join(tmpdir(), "virtwork-apt-"));
    const a = aptInstall(cache, "t-first");
    await until("the first run to start installing", () =>
      a.stderr().includes("t-first: installing coreutils"),
    );
    const b = aptInstall(cache, "t-second");
    const [ca, cb] = await Promise.all([a.done, b.done]);
    assert.equal(ca, 0, a.stderr());
    assert.equal(cb, 0, b.stderr());
    assert.match(b.stderr(), /t-second: another virtwork apt run is installing; waiting for .*apt\.lock/);
  });

  test("a lock that is never released: one clear failure after VIRTWORK_APT_WAIT, exit 1", async () => {
    const cache = mkdtempSync(join(tmpdir(), "virtwork-apt-"));
    const lock = await holdListsLock();
    let code: number;
    let stderr: string;
    try {
      const run = aptInstall(cache, "t-stuck", { VIRTWORK_APT_WAIT: "10" });
      code = await run.done;
      stderr = run.stderr();
    } finally {
      await lock.release();
    }
    assert.equal(code, 1, stderr);
    assert.match(stderr, /t-stuck: apt's lock was still held after 10s \(VIRTWORK_APT_WAIT\)/);
    assert.match(stderr, /t-stuck: apt-get could not install coreutils/);
    assert.doesNotMatch(stderr, /^installed$/m);
  });
});
