/**
 * Signals stop the run whatever sends them (no cluster needed: the run is kept busy retrying
 * an API server that answers every request 503 — a refused connection fails at once). bin/virtwork started through its shebang with the
 * machine's old Node (/usr/bin/node, older than 22.12) first on PATH runs the CLI on the
 * pinned Node as a child; a SIGINT to the launcher's pid alone must stop that child, exit 130,
 * and leave the audit row "cancelled". A second SIGINT exits at once, still recording it.
 * test/integration/ops-interrupt*.test.ts do the same against the real test cluster.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { BIN, cleanEnv, ensureBuilt } from "./cli.ts";

const OLD_NODE = "/usr/bin/node";

function oldNodeIsOld(): boolean {
  try {
    const [major, minor] = execFileSync(OLD_NODE, ["--version"], { encoding: "utf8" })
      .trim()
      .slice(1)
      .split(".")
      .map(Number) as [number, number];
    return major < 22 || (major === 22 && minor < 12);
  } catch {
    return false;
  }
}

/** An API server that is always unavailable (503, Retry-After 1): every call is retried. */
const unavailable = createServer((_req, res) => {
  res.writeHead(503, { "Content-Type": "application/json", "Retry-After": "1" });
  res.end('{"kind":"Status","status":"Failure","reason":"ServiceUnavailable","code":503}');
});
const unavailablePort = new Promise<number>((resolve) =>
  unavailable.listen(0, "127.0.0.1", () => resolve((unavailable.address() as { port: number }).port)),
);
unavailable.unref();
after(() => unavailable.close());

/** A kubeconfig whose API server answers 503 to everything: every call is retried for seconds. */
async function unreachableKubeconfig(dir: string): Promise<string> {
  const file = join(dir, "kubeconfig");
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:${await unavailablePort}"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: sig}}]
current-context: c
`,
  );
  return file;
}

async function startLauncher(home: string) {
  const kubeconfig = await unreachableKubeconfig(home);
  const child = spawn(BIN, ["run", "--workloads", "cpu", "--kubeconfig", kubeconfig], {
    env: cleanEnv({
      PATH: `/usr/bin:${process.env.PATH}`,
      HOME: home,
      XDG_CACHE_HOME: process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"),
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const done = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, stderr: () => stderr, done };
}

async function until(cond: () => boolean, what: string, ms = 30_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function auditStatus(home: string): string {
  const out = execFileSync(process.execPath, [BIN, "history", "-o", "json"], {
    env: cleanEnv({ HOME: home }),
    encoding: "utf8",
  });
  return (JSON.parse(out) as { status: string }[])[0]?.status ?? "(none)";
}

for (const twice of [false, true]) {
  test(`SIGINT${twice ? " twice" : ""} to the launcher on an old Node: the real CLI stops, exit 130, audit cancelled`, async (t) => {
    if (!oldNodeIsOld()) return t.skip(`${OLD_NODE} is not older than 22.12 here`);
    ensureBuilt();
    const home = mkdtempSync(join(tmpdir(), "virtwork-sig-"));
    const run = await startLauncher(home);
    await until(() => /retrying API call/.test(run.stderr()), "the run at work (retrying)");
    const kids = childrenOf(run.child.pid as number);
    assert.equal(kids.length, 1, "the launcher runs the CLI as a child process");
    run.child.kill("SIGINT"); // the launcher's pid only
    if (twice) {
      await until(() => /SIGINT received: stopping/.test(run.stderr()), "the first signal's warning");
      await new Promise((r) => setTimeout(r, 700)); // a second Ctrl-C, not the same one twice
      // Every API call is abortable: the first signal may already have ended the run.
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGINT");
    }
    const t0 = Date.now();
    const { code } = await run.done;
    assert.equal(code, 130, run.stderr().slice(-2000));
    if (twice) assert.ok(Date.now() - t0 < 4000, `exited ${Date.now() - t0} ms after the second SIGINT`);
    assert.match(
      run.stderr(),
      twice ? /SIGINT received again: exiting now|Interrupted: / : /SIGINT received: stopping/,
    );
    for (const pid of kids) assert.throws(() => process.kill(pid, 0), "the real CLI is gone");
    assert.equal(auditStatus(home), "cancelled");
  });
}
