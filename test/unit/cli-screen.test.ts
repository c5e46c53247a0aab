import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { terminalStatus } from "../../src/cli/progress.ts";
import { createScreen } from "../../src/cli/screen.ts";
import { createLogger } from "../../src/log/logger.ts";
import { BIN, cleanEnv, ensureBuilt, virtwork } from "./cli.ts";
import { screenOf } from "./screen.ts";

test("a log line on a terminal lands on its own line, and the live line is redrawn below it", () => {
  let raw = "";
  const screen = createScreen((t) => (raw += t), true);
  const logger = createLogger({ format: "text", write: (l) => screen.line(l) });
  screen.live("created 3/6 objects");
  logger.warn("retrying API call", { verb: "create", attempt: 2 });
  screen.live("created 6/6 objects");
  screen.clear();
  assert.deepEqual(screenOf(raw), ["Warning: retrying API call verb=create attempt=2"]);
  assert.ok(!raw.includes("objectsWarning"), "a log line never continues the progress line");
});

test("steps: one ✓ line each with the true final count; throttled progress flushed without a terminal", () => {
  let raw = "";
  const screen = createScreen((t) => (raw += t), false);
  const status = terminalStatus(
    screen,
    "text",
    createLogger({ format: "text", write: (l) => screen.line(l) }),
  );
  status.stepStarted("virtual machines");
  for (let i = 1; i <= 8; i++) status.progress(`created ${i}/8 objects`);
  status.stepEnded("virtual machines", { ok: true, ms: 1234, counts: { created: 8, existing: 0 } });
  status.stepStarted("wait");
  status.stepEnded("wait", {
    ok: false,
    ms: 600_000,
    counts: { running: 5, vms: 8 },
    error: "timeout, 5/8 running",
  });
  status.done();
  const lines = screenOf(raw);
  assert.deepEqual(lines, [
    "   Creating virtual machines: created 8/8 objects",
    " ✓ Creating virtual machines: 8 created (1.2s)",
    " ✗ Waiting for the VMs to run: timeout, 5/8 running (10m0s)",
  ]);
  assert.ok(!raw.includes("\r"), "no terminal controls in a pipe");
});

test("JSON logs: steps and progress are JSON records", () => {
  const lines: string[] = [];
  const screen = createScreen((t) => lines.push(t), false);
  const status = terminalStatus(
    screen,
    "json",
    createLogger({ format: "json", write: (l) => screen.line(l) }),
  );
  status.stepStarted("services");
  status.progress("created 3/3 objects");
  status.stepEnded("services", { ok: true, ms: 10, counts: { created: 3, existing: 0 } });
  const records = lines
    .join("")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    records.map((r) => [r.msg, r.step]),
    [
      ["progress", "services"],
      ["step", "services"],
    ],
  );
  assert.equal(records[1].created, 3);
});

test("in a real terminal the dry run logs text, piped it logs JSON; --log-format and the env var override", () => {
  ensureBuilt();
  const tty = spawnSync(
    "script",
    ["-qfec", `${process.execPath} ${BIN} run --dry-run >/dev/null`, "/dev/null"],
    {
      env: cleanEnv(),
      encoding: "utf8",
    },
  );
  assert.equal(tty.status, 0, tty.stderr);
  assert.match(tty.stdout, /^dry run: printing the plan/m);
  assert.doesNotMatch(tty.stdout, /\{"time"/);
  const piped = virtwork(["run", "--dry-run"]);
  assert.equal(piped.status, 0);
  assert.equal(JSON.parse(piped.stderr.trim().split("\n")[0] ?? "").level, "info");
  assert.match(virtwork(["run", "--dry-run", "--log-format", "text"]).stderr, /^dry run: /);
  assert.match(virtwork(["run", "--dry-run"], { env: { VIRTWORK_LOG_FORMAT: "text" } }).stderr, /^dry run: /);
  const bad = virtwork(["run", "--dry-run"], { env: { VIRTWORK_LOG_FORMAT: "xml" } });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^Error: VIRTWORK_LOG_FORMAT: must be one of text, json/);
});
