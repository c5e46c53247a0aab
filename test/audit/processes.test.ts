/** Several processes on one SQLite file; a process killed mid-run; SIGINT → cancelled. */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openAuditor } from "../../src/audit/open.ts";
import { openSqlite } from "../../src/audit/sqlite.ts";
import { CHILD_NODE_FLAGS } from "./helpers.ts";

const WORKER = new URL("./worker.ts", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "virtwork-audit-proc-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Child {
  process: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function worker(...args: string[]): Child {
  const child = spawn(process.execPath, [...CHILD_NODE_FLAGS, WORKER, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const result: Child = {
    process: child,
    stdout: "",
    stderr: "",
    exit: new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal }))),
  };
  child.stdout?.on("data", (d) => {
    result.stdout += d;
  });
  child.stderr?.on("data", (d) => {
    result.stderr += d;
  });
  return result;
}

async function waitFor(child: Child, text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!child.stdout.includes(text)) {
    if (Date.now() > deadline) throw new Error(`worker never printed "${text}"; stderr: ${child.stderr}`);
    if (child.process.exitCode !== null) throw new Error(`worker exited early; stderr: ${child.stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const count = async (path: string, sql: string) => {
  const db = openSqlite(path);
  try {
    return Number((await db.query(sql))[0]?.n);
  } finally {
    await db.close();
  }
};

test("two processes × 50 runs on one new SQLite file: every row kept, no 'database is locked'", async () => {
  const path = join(dir, "concurrent.db");
  const children = [worker(path, "runs", "50"), worker(path, "runs", "50")];
  const exits = await Promise.all(children.map((c) => c.exit));
  for (const [i, exit] of exits.entries()) {
    const stderr = children[i]?.stderr ?? "";
    assert.equal(exit.code, 0, `worker ${i} failed: ${stderr}`);
    assert.doesNotMatch(stderr, /locked|SQLITE_BUSY/i);
    assert.doesNotMatch(
      stderr,
      /SQLite is an experimental feature/,
      "the experimental warning is suppressed",
    );
  }
  assert.equal(await count(path, "SELECT COUNT(*) AS n FROM audit_log"), 100);
  assert.equal(await count(path, "SELECT COUNT(*) AS n FROM audit_log WHERE status = 'success'"), 100);
  assert.equal(await count(path, "SELECT COUNT(*) AS n FROM workload_details WHERE status = 'ready'"), 200);
  assert.equal(await count(path, "SELECT COUNT(*) AS n FROM vm_details WHERE status = 'ready'"), 300);
  assert.equal(await count(path, "SELECT COUNT(*) AS n FROM resource_details"), 700);
  // Per run: started, planned, 7 objects, 3 vm_running, completed.
  assert.equal(await count(path, "SELECT COUNT(*) AS n FROM events"), 1300);
  assert.equal(await count(path, "SELECT COUNT(*) AS n FROM schema_version"), 1);
});

test("SIGKILL in the middle of runs leaves a database that passes PRAGMA integrity_check", async () => {
  const path = join(dir, "killed.db");
  const child = worker(path, "forever");
  await waitFor(child, "ready");
  await new Promise((r) => setTimeout(r, 150));
  child.process.kill("SIGKILL");
  const exit = await child.exit;
  assert.equal(exit.signal, "SIGKILL");
  assert.ok(existsSync(`${path}-wal`), "the WAL was in use when the process died");

  const db = openSqlite(path);
  try {
    assert.deepEqual(
      (await db.query("PRAGMA integrity_check")).map((r) => r.integrity_check),
      ["ok"],
    );
    assert.deepEqual(await db.query("PRAGMA foreign_key_check"), []);
  } finally {
    await db.close();
  }
  const completed = await count(path, "SELECT COUNT(*) AS n FROM audit_log WHERE status = 'success'");
  assert.ok(completed >= 1);
  // Whole transactions only: every started run has all its workload and VM rows.
  assert.equal(
    await count(
      path,
      "SELECT COUNT(*) AS n FROM audit_log a WHERE (SELECT COUNT(*) FROM vm_details v WHERE v.audit_id = a.id) <> 3",
    ),
    0,
  );
  // The database is still usable afterwards, with the interrupted run visible as in progress.
  const auditor = await openAuditor({ enabled: true, target: path, env: {} });
  try {
    const runs = await auditor.listRuns({ limit: 1000 });
    assert.ok(runs.length > completed - 1);
    assert.ok(runs.filter((r) => r.status === "in_progress").length <= 1);
  } finally {
    await auditor.close();
  }
});

test("SIGINT: completeRun(…, 'cancelled') from the signal handler marks the run cancelled", async () => {
  const path = join(dir, "interrupted.db");
  const child = worker(path, "sigint");
  await waitFor(child, "ready ");
  const runId = child.stdout.trim().split(" ")[1] ?? "";
  child.process.kill("SIGINT");
  const exit = await child.exit;
  assert.equal(exit.code, 130, child.stderr);
  const auditor = await openAuditor({ enabled: true, target: path, env: {} });
  try {
    const run = await auditor.getRun(runId);
    assert.equal(run?.status, "cancelled");
    assert.equal(run?.errorSummary, "interrupted by signal (SIGINT)");
    assert.ok(run?.completedAt);
    assert.deepEqual(
      run?.events.slice(-2).map((e) => e.type),
      ["interrupted", "execution_completed"],
    );
  } finally {
    await auditor.close();
  }
});
