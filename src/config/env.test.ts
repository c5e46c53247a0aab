import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  cliEnvNames,
  TOOLING_ENV,
  TOOLING_ENV_PREFIXES,
  unknownEnvWarnings,
  WORKLOAD_ENV_PREFIX,
} from "./env.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

describe("unknown VIRTWORK_* variables", () => {
  it("warn, naming the variable and the closest one virtwork reads", () => {
    assert.deepEqual(unknownEnvWarnings({ VIRTWORK_NAMESPCE: "x", VIRTWORK_AUIDT_DB: "y" }), [
      'ignoring unknown environment variable VIRTWORK_NAMESPCE (did you mean "VIRTWORK_NAMESPACE"?)',
      'ignoring unknown environment variable VIRTWORK_AUIDT_DB (did you mean "VIRTWORK_AUDIT_DB"?)',
    ]);
    assert.match(unknownEnvWarnings({ VIRTWORK_PROMETHEUS_UR: "x" })[0] ?? "", /"VIRTWORK_PROMETHEUS_URL"/);
    assert.match(unknownEnvWarnings({ VIRTWORK_ZZZZZZZZZZZZZ: "x" })[0] ?? "", /README\.md "Configuration"/);
  });

  it("are quiet for what virtwork reads, per-workload variables (checked with the workloads) and other prefixes", () => {
    const env = Object.fromEntries(cliEnvNames().map((n) => [n, "x"]));
    assert.deepEqual(
      unknownEnvWarnings({
        ...env,
        VIRTWORK_WORKLOAD_CPU_VM_COUNT: "2",
        XVIRTWORK_A: "1",
        _VIRTWORK_LAUNCHED: "1",
      }),
      [],
    );
  });

  it("are quiet for the repository's tooling variables, and every one the tooling uses is listed", () => {
    // Scripts, Makefile, images and the test harnesses export these next to the CLI's own.
    const roots = [
      "Makefile",
      "Containerfile",
      "scripts",
      "images",
      "test/cluster",
      "test/guest",
      "test/compat",
    ];
    const files: string[] = [];
    const walk = (path: string) => {
      if (statSync(path).isDirectory()) {
        for (const entry of readdirSync(path)) if (entry !== "node_modules") walk(join(path, entry));
      } else files.push(path);
    };
    for (const root of roots) walk(join(ROOT, root));
    const used = new Set<string>();
    for (const file of files)
      for (const [name] of readFileSync(file, "latin1").matchAll(
        /(?<![A-Za-z0-9_])VIRTWORK_[A-Z0-9_]*[A-Z0-9]/g,
      ))
        used.add(name);
    const cli = new Set(cliEnvNames());
    const tooling = [...used].filter((n) => !cli.has(n) && !n.startsWith(WORKLOAD_ENV_PREFIX));
    assert.ok(tooling.includes("VIRTWORK_CACHE"), "the scan finds the tooling's variables");
    assert.deepEqual(unknownEnvWarnings(Object.fromEntries(tooling.map((n) => [n, "x"]))), []);
    for (const prefix of TOOLING_ENV_PREFIXES)
      assert.ok(![...cli].some((n) => n.startsWith(prefix)), `${prefix} hides no CLI variable`);
    for (const name of TOOLING_ENV) assert.ok(!cli.has(name), `${name} is not the CLI's`);
  });
});
