import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { cleanEnv, ensureBuilt, ROOT } from "./cli.ts";

const HOLDS_CLIENT = /\bKubeConfig = class\b|\bclass KubeConfig\b/;
/** virtwork's own kubeconfig/credential code (src/kube/credentials.ts). */
const HOLDS_CONNECT = /KUBERNETES_EXEC_INFO/;
const dir = mkdtempSync(join(tmpdir(), "virtwork-startup-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The files of dist/ that a command loads, recorded by a module hook. */
function loadedFiles(args: string[], expectedStatus = 0, env: Record<string, string> = {}): string[] {
  ensureBuilt();
  const out = join(dir, `loaded-${args.join("-").replace(/[^a-z-]/g, "")}.txt`);
  const hook = join(dir, "hook.mjs");
  writeFileSync(
    hook,
    `import { registerHooks } from "node:module";
import { appendFileSync } from "node:fs";
registerHooks({ load(url, context, next) { appendFileSync(${JSON.stringify(out)}, url + "\\n"); return next(url, context); } });`,
  );
  const r = spawnSync(process.execPath, ["--import", hook, join(ROOT, "dist/virtwork.mjs"), ...args], {
    env: cleanEnv(env),
    encoding: "utf8",
  });
  assert.equal(r.status, expectedStatus, r.stderr);
  return readFileSync(out, "utf8")
    .split("\n")
    .filter((u) => u.startsWith("file:"))
    .map((u) => fileURLToPath(u));
}

describe("start-up path", () => {
  it("the bundle holds no Kubernetes client library (kubeconfigs are read by src/kube/connect.ts)", () => {
    ensureBuilt();
    const chunks = readdirSync(join(ROOT, "dist/chunks")).filter((f) => f.endsWith(".mjs"));
    assert.ok(chunks.length > 0, "dist/chunks has the CLI's chunks");
    for (const f of chunks)
      assert.ok(
        !HOLDS_CLIENT.test(readFileSync(join(ROOT, "dist/chunks", f), "utf8")),
        `${f} holds the client library`,
      );
  });

  for (const args of [["--help"], ["run", "--dry-run"]]) {
    it(`virtwork ${args.join(" ")} never loads the kubeconfig and credential code`, () => {
      const files = loadedFiles(args);
      assert.ok(
        files.some((f) => f.includes("/dist/chunks/")),
        "the CLI chunks were loaded",
      );
      for (const file of files) {
        const code = readFileSync(file, "utf8");
        assert.ok(!HOLDS_CONNECT.test(code), `${file} holds the connection code`);
      }
    });
  }

  it("a command that needs a cluster does load it (the check can see it)", () => {
    const files = loadedFiles(["status"], 2, { HOME: dir, KUBECONFIG: "" });
    assert.ok(files.some((f) => HOLDS_CONNECT.test(readFileSync(f, "utf8"))));
  });
});
