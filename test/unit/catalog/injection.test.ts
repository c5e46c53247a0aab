/**
 * Shell and systemd injection through catalog params (issue 15): every value below would
 * have landed verbatim in redis-bench's `ExecStart=/bin/bash -c '… -t {{test-mode}} …'`.
 * Each is refused before anything is planned, with exit 2 and one line naming the entry and
 * the param, whichever way it is given: --params, VIRTWORK_PARAMS, the per-workload env or
 * the config file.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { loadConfig } from "../../../src/config/load.ts";
import { UsageError } from "../../../src/errors.ts";
import { openCatalog } from "../../../src/workloads/catalog/source.ts";
import { makeCatalog, unit } from "../../../src/workloads/catalog/testing.ts";
import { createRegistry } from "../../../src/workloads/registry.ts";
import { virtwork } from "../cli.ts";
import { INJECTIONS } from "./injections.ts";
import { CATALOG_DIR, loadShipped } from "./shipped.ts";

type Source = "--params" | "VIRTWORK_PARAMS" | "VIRTWORK_WORKLOAD_REDIS_BENCH_PARAMS" | "config file";
const SOURCES: Source[] = [
  "--params",
  "VIRTWORK_PARAMS",
  "VIRTWORK_WORKLOAD_REDIS_BENCH_PARAMS",
  "config file",
];
const CONFIG = "/virtwork-test/injection.yaml";

function problemOf(source: Source, value: string): string {
  const flags: Record<string, unknown> = { "catalog-dir": CATALOG_DIR, "from-catalog": ["redis-bench"] };
  const env: Record<string, string> = {};
  let file = "";
  if (source === "--params") flags.params = [`redis-bench.test-mode=${value}`];
  else if (source === "VIRTWORK_PARAMS") env.VIRTWORK_PARAMS = `redis-bench.test-mode=${value}`;
  else if (source === "config file") {
    flags.config = CONFIG;
    file = stringify({ workloads: { "redis-bench": { params: { "test-mode": value } } } });
  } else env[source] = `test-mode=${value}`;
  try {
    loadConfig({ flags, env, registry: createRegistry(), readFile: () => file, openCatalog });
  } catch (err) {
    assert.ok(err instanceof UsageError, String(err));
    return err.message;
  }
  assert.fail(`accepted ${JSON.stringify(value)} from ${source}`);
}

describe("catalog params: the issue's 12 injection cases are refused", () => {
  it("there are 12 distinct cases", () => {
    assert.equal(new Set(INJECTIONS.map(([, v]) => v)).size, 12);
  });

  for (const [name, value] of INJECTIONS) {
    it(`${name}: ${JSON.stringify(value)} from every source`, () => {
      for (const source of SOURCES) {
        const message = problemOf(source, value);
        assert.match(message, /redis-bench/, `${source}: names the entry: ${message}`);
        assert.match(message, /test-mode/, `${source}: names the param: ${message}`);
        assert.match(message, /may hold only letters, digits|must match the pattern|control characters/);
      }
    });
  }

  it("a string param without enum or pattern takes only the safe characters", () => {
    const cat = makeCatalog({
      plain: {
        "workload.yaml": "params:\n  - {key: mode, type: string, default: a}\n",
        "workload.service": unit("/bin/bash -c 'echo {{mode}}'"),
      },
    });
    try {
      const load = (value: string) =>
        loadConfig({
          flags: { "catalog-dir": cat.dir, "from-catalog": ["plain"], params: [`plain.mode=${value}`] },
          env: {},
          registry: createRegistry(),
          openCatalog,
        });
      for (const [, value] of INJECTIONS) {
        assert.throws(
          () => load(value),
          /--params plain\.mode: .*(may hold only letters|control characters)/,
        );
      }
      assert.throws(() => load("--help"), /not starting with -/);
      assert.throws(() => load("x".repeat(257)), /at most 256/);
      assert.equal(load("a.b_c:d/e@f+g=h,i-j").config.workloads[0]?.params.mode, "a.b_c:d/e@f+g=h,i-j");
    } finally {
      cat.remove();
    }
  });

  it("values that only look odd are accepted: set,get,lpush", () => {
    const { config } = loadConfig({
      flags: {
        "catalog-dir": CATALOG_DIR,
        "from-catalog": ["redis-bench"],
        params: ["redis-bench.test-mode=set,get,lpush", "redis-bench.maxmemory=1gb"],
      },
      env: {},
      registry: createRegistry(),
      openCatalog,
    });
    assert.equal(config.workloads[0]?.params["test-mode"], "set,get,lpush");
  });
});

describe("the shipped examples declare their constraints", () => {
  for (const name of ["sysbench", "redis-bench", "http-bench"]) {
    it(`${name}: every int has min and max, every string an enum or a pattern`, () => {
      const { manifest } = loadShipped(name).entry;
      assert.ok(manifest.params.length > 0);
      for (const p of manifest.params) {
        if (p.type === "int")
          assert.ok(p.min !== undefined && p.max !== undefined, `${name}.${p.key}: min/max`);
        if (p.type === "string") assert.ok(p.enum ?? p.pattern, `${name}.${p.key}: enum or pattern`);
      }
      const out = loadShipped(name).params.find((p) => p.type === "int");
      assert.ok(out);
      assert.match(out.check?.("-1") ?? "", /must be between/, "the range is enforced");
    });
  }
});

describe("the built CLI: exit 2, one Error line naming entry and param, nothing on stdout", () => {
  for (const [i, [name, value]] of INJECTIONS.entries()) {
    // Alternate flag and environment so both paths run through the real binary.
    const viaEnv = i % 2 === 1;
    it(`${name} via ${viaEnv ? "VIRTWORK_PARAMS" : "--params"}`, () => {
      const args = ["run", "--dry-run", "--catalog-dir", CATALOG_DIR, "--from-catalog", "redis-bench"];
      const pair = `redis-bench.test-mode=${value}`;
      const r = viaEnv
        ? virtwork(args, { env: { VIRTWORK_PARAMS: pair } })
        : virtwork([...args, "--params", pair]);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, "");
      const lines = r.stderr.split("\n");
      assert.equal(lines.length, 2, JSON.stringify(r.stderr));
      assert.match(lines[0] ?? "", /^Error: (--params|VIRTWORK_PARAMS) redis-bench\.test-mode: /);
    });
  }
});
