/** kubectl habits of the built CLI that need no cluster: -o spellings, help, --version, prompts. */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isYes } from "../../src/cli/prompt.ts";
import { virtwork } from "./cli.ts";

test("-o json, -ojson, -o=json and --output=json are the same", () => {
  const outputs = [["-o", "json"], ["-ojson"], ["-o=json"], ["--output=json"]].map((o) => {
    const r = virtwork(["validate", "cpu", ...o]);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { valid: boolean; vms: number };
  });
  for (const o of outputs) assert.deepEqual(o, outputs[0]);
  assert.deepEqual([outputs[0]?.valid, outputs[0]?.vms], [true, 1]);
  const bad = virtwork(["status", "-o=table"]);
  assert.equal(bad.status, 2);
  assert.match(
    bad.stderr,
    /^Error: option '-o, --output <format>' argument '=table' is invalid\. Allowed choices are wide, name, yaml, json\./,
  );
});

test("every subcommand's help shows the global flags; --version prints the version", () => {
  for (const args of [["run"], ["status"], ["cleanup"], ["history", "show"], ["workloads"]]) {
    const help = virtwork([...args, "--help"]).stdout;
    assert.match(help, /^Global Options:$/m, args.join(" "));
    for (const flag of ["-n, --namespace", "--context", "--kubeconfig", "--log-format"])
      assert.ok(help.includes(flag), `${args.join(" ")} --help lists ${flag}`);
  }
  const v = virtwork(["--version"]);
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^virtwork \d+\.\d+\.\d+ \(commit \S+, built \S+, node v\d+/);
});

test("lists: -o name and -o wide for history and workloads", () => {
  const state = mkdtempSync(join(tmpdir(), "virtwork-state-"));
  const empty = virtwork(["history", "-o", "name"], { env: { XDG_STATE_HOME: state } });
  assert.equal(empty.status, 0, empty.stderr);
  assert.equal(empty.stdout, "", "-o name prints names only, none here");
  const wide = virtwork(["workloads", "-o", "wide"]).stdout.split("\n")[0] ?? "";
  assert.match(wide, /^NAME\s+SELECTED\s+ROLES\s+PARAMS\s+DESCRIPTION\s+PARAM-NAMES$/);
});

test("a prompt takes y and yes, in any case; everything else is no", () => {
  for (const a of ["y", "Y", "yes", " YES "]) assert.equal(isYes(a), true, a);
  for (const a of ["", "n", "no", "yess", "ok"]) assert.equal(isYes(a), false, a);
});

test("validate suggests names like run does", () => {
  const r = virtwork(["validate", "cpuu"]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^Error: unknown workload or catalog entry "cpuu" \(did you mean "cpu"\?\)/);
});

test("a connectivity error names the server, the context and where it came from, once", () => {
  const dir = mkdtempSync(join(tmpdir(), "virtwork-dead-"));
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
current-context: dead
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:1" } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: dead, context: { cluster: c, user: u, namespace: team-a } }]
`,
  );
  const r = virtwork(["status"], { env: { KUBECONFIG: kubeconfig, HOME: dir } });
  assert.equal(r.status, 1);
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("Error:"));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(
    errors[0] ?? "",
    /cannot reach the API server https:\/\/127\.0\.0\.1:1 \(context "dead", from KUBECONFIG \(.*\)\): .*ECONNREFUSED.*check that the cluster is up and that this is the right context \(--context, --kubeconfig\)$/,
  );
});
