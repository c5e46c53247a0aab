/**
 * Shell completion, driven the way the shells do it: bash gets COMP_WORDS/COMP_CWORD (split at
 * "=" as bash's COMP_WORDBREAKS does) and the completion function is called in `bash -c`;
 * zsh and fish must load their scripts (scripts/install-shells.sh installs them; `make
 * completion-test` runs it first). The completed CLI is the built one, so dynamic values
 * (workload, catalog and run names) come from the real commands.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { openAuditor } from "../../src/audit/open.ts";
import { cleanEnv, ROOT, virtwork } from "./cli.ts";

const home = mkdtempSync(join(tmpdir(), "virtwork-completion-"));
const state = join(home, "state");
const env = { HOME: home, XDG_STATE_HOME: state, VIRTWORK_CATALOG_DIR: join(ROOT, "catalog") };
const binDir = join(home, "bin");
mkdirSync(binDir);
// `virtwork` on PATH is the built CLI, as after an install.
writeFileSync(
  join(binDir, "virtwork"),
  `#!/bin/sh\nexec "${process.execPath}" "${ROOT}bin/virtwork" "$@"\n`,
  {
    mode: 0o755,
  },
);
const scripts = Object.fromEntries(
  ["bash", "zsh", "fish"].map((shell) => {
    const r = virtwork(["completion", shell]);
    assert.equal(r.status, 0, r.stderr);
    const file = join(home, `completion.${shell}`);
    writeFileSync(file, r.stdout);
    return [shell, file];
  }),
);

/** What bash offers for the words typed so far (the last one is the word being completed). */
function complete(...words: string[]): string[] {
  const quoted = words.map((w) => `'${w}'`).join(" ");
  const r = spawnSync(
    "bash",
    [
      "-c",
      `source '${scripts.bash}'; COMP_WORDS=(virtwork ${quoted}); COMP_CWORD=${words.length}; _virtwork; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { env: cleanEnv({ ...env, PATH: `${binDir}:${process.env.PATH}` }), encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split("\n").filter(Boolean);
}

const has = (shell: string) => spawnSync("sh", ["-c", `command -v ${shell}`]).status === 0;

describe("bash completion", () => {
  test("subcommands, nested ones, and nothing after completion's shell", () => {
    assert.deepEqual(complete(""), [
      "run",
      "cleanup",
      "status",
      "verify",
      "validate",
      "workloads",
      "version",
      "completion",
      "history",
    ]);
    assert.deepEqual(complete("history", ""), ["show"]);
    assert.deepEqual(complete("completion", ""), ["bash", "zsh", "fish"]);
    assert.deepEqual(complete("completion", "bash", ""), []);
    assert.deepEqual(complete("completion", "bash", "-"), []);
    assert.deepEqual(complete("completion", "-"), []);
  });

  test("flags of the subcommand plus the global ones", () => {
    assert.deepEqual(complete("status", "--a"), ["--all-namespaces", "--audit", "--audit-db"]);
    assert.deepEqual(complete("run", "-n", "x", "--vm"), ["--vm-count", "--vm-concurrency"]);
    assert.ok(complete("history", "show", "--").includes("--kubeconfig"));
  });

  test("enum values from the settings table, `--flag value` and `--flag=value`", () => {
    assert.deepEqual(complete("run", "--guest-os", ""), ["fedora", "centos-stream", "ubuntu", "debian"]);
    assert.deepEqual(complete("run", "--dry-run", "=", ""), ["client", "server", "none"]);
    assert.deepEqual(complete("run", "--dry-run", "=", "s"), ["server"]);
    assert.deepEqual(complete("run", "--log-format", ""), ["text", "json"]);
    assert.deepEqual(complete("run", "-o", ""), ["yaml", "json"]);
    assert.deepEqual(complete("status", "-o", "=", ""), ["wide", "name", "yaml", "json"]);
    assert.deepEqual(complete("workloads", "--output", ""), ["wide", "name", "yaml", "json"]);
  });

  test("workload names from the registry, catalog names from the catalog", () => {
    const builtins = [
      "cpu",
      "memory",
      "disk",
      "database",
      "network",
      "tps",
      "chaos-disk",
      "chaos-network",
      "chaos-process",
    ];
    const catalog = ["http-bench", "redis-bench", "sysbench"];
    assert.deepEqual(complete("run", "-w", ""), [...builtins, ...catalog, "all"]);
    assert.deepEqual(complete("run", "--from-catalog", ""), catalog);
    assert.deepEqual(complete("workloads", "ch"), ["chaos-disk", "chaos-network", "chaos-process"]);
    assert.deepEqual(complete("validate", "cpu", "red"), ["redis-bench"]);
    assert.deepEqual(complete("workloads", "cpu", ""), [], "workloads takes one name");
  });

  test("history show completes recorded run ids", async () => {
    const auditor = await openAuditor({
      enabled: true,
      target: join(state, "virtwork", "audit.db"),
      env: {},
    });
    const runId = "3f2a9c1e-0000-4000-8000-000000000001";
    await auditor.startRun({
      runId,
      command: "run",
      namespace: "virtwork",
      settings: {},
      dryRun: false,
      sshAuthConfigured: false,
      waitForReady: true,
      workloads: [],
      vms: [],
    });
    await auditor.close();
    assert.deepEqual(complete("history", "show", ""), [runId]);
    assert.deepEqual(complete("status", "--run-id", "3f"), [runId]);
  });
});

test("the zsh script loads in zsh and completes", {
  // Under CI the shell must be there (`make unit` installs it): a missing shell fails, never skips.
  skip: !has("zsh") && process.env.CI !== "true" && "zsh is not installed (scripts/install-shells.sh)",
}, () => {
  const r = spawnSync(
    "zsh",
    ["-f", "-c", `source '${scripts.zsh}' && (( $+functions[_virtwork] )) && echo loaded`],
    {
      env: cleanEnv({ ...env, PATH: `${binDir}:${process.env.PATH}` }),
      encoding: "utf8",
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), "loaded");
  assert.equal(r.stderr, "");
});

test("the fish script loads in fish and completes", {
  // Under CI the shell must be there (`make unit` installs it): a missing shell fails, never skips.
  skip: !has("fish") && process.env.CI !== "true" && "fish is not installed (scripts/install-shells.sh)",
}, () => {
  const r = spawnSync(
    "fish",
    [
      "--no-config",
      "-c",
      `source '${scripts.fish}'; and complete -C 'virtwork completion '; and complete -C 'virtwork run --guest-os '`,
    ],
    { env: cleanEnv({ ...env, PATH: `${binDir}:${process.env.PATH}` }), encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "");
  const offered = r.stdout.split("\n").map((l) => l.split("\t")[0]);
  for (const w of ["bash", "zsh", "fish", "fedora", "debian"])
    assert.ok(offered.includes(w), `${w} in ${offered}`);
});
