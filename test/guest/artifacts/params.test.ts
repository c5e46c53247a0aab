/**
 * Odd but valid param values reach the guest in a form the guest reads as meant. Integers
 * written `08`, `010`, `0755` or `+5` pass the int rule, but bash arithmetic reads a leading
 * zero as octal (`$((08))` is an error, `$((010))` is 8), so they must arrive as plain
 * decimal. Strings such as `no` and `on` must arrive verbatim (cloud-init.test.ts checks
 * they stay strings through YAML).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { loadConfig } from "../../../src/config/load.ts";
import type { Secret } from "../../../src/manifests/objects.ts";
import { plan } from "../../../src/plan/plan.ts";
import { openCatalog } from "../../../src/workloads/catalog/source.ts";
import { makeCatalog, unit } from "../../../src/workloads/catalog/testing.ts";
import { BUILTIN_WORKLOADS, createRegistry } from "../../../src/workloads/registry.ts";
import { accepts, render } from "./cases.ts";
import { runSync } from "./tools.ts";

const NON_CANONICAL_INTS = ["08", "010", "0755", "+5", "007"];

function guestText(workload: string, params: Record<string, string>): string {
  return render(workload, params)
    .flatMap((r) => [...r.guest.files.map((f) => f.content), ...r.guest.runcmd.map((a) => a.join(" "))])
    .join("\n");
}

describe("int params arrive in the guest as plain decimal", () => {
  test("bash really misreads leading zeros (why this matters)", () => {
    const r = runSync("bash", ["-c", "echo $((010)); echo $((08))"]);
    assert.match(r.stdout, /^8$/m);
    assert.match(r.stderr, /value too great for base/);
  });

  for (const workload of BUILTIN_WORKLOADS) {
    for (const spec of workload.params.filter((p) => p.type === "int")) {
      const odd = NON_CANONICAL_INTS.filter((v) => accepts(spec, v));
      if (!odd.length) continue;
      test(`${workload.name}.${spec.name} = ${odd.join(", ")}`, () => {
        for (const value of odd) {
          const canonical = String(BigInt(value));
          const text = guestText(workload.name, { [spec.name]: value });
          const token = new RegExp(`(^|[^\\w.+-])${value.replace("+", "\\+")}($|[^\\w.])`, "m");
          assert.doesNotMatch(text, token, `${value} reached the guest as written`);
          const baseline = guestText(workload.name, { [spec.name]: canonical });
          assert.equal(text, baseline, `${value} renders as ${canonical} does`);
        }
      });
    }
  }

  test("string params keep YAML-1.1-looking values verbatim", () => {
    // Built-in string params are fixed lists now; a catalog string param takes any safe word.
    const cat = makeCatalog({
      odd: {
        "workload.yaml": "params:\n  - {key: mode, type: string, default: x}\n",
        "workload.service": unit("/usr/bin/printf %%s {{mode}}"),
      },
    });
    try {
      for (const value of ["no", "on", "0755", "null", "1e3"]) {
        const { config, registry } = loadConfig({
          flags: { "catalog-dir": cat.dir, "from-catalog": ["odd"], params: [`odd.mode=${value}`] },
          env: {},
          registry: createRegistry(),
          openCatalog,
        });
        const p = plan(config, registry, { runId: "00000000-0000-4000-8000-0000000000dd" });
        const secret = p.objects.find((o): o is Secret => o.kind === "Secret");
        const doc = parse(secret?.stringData?.userdata ?? "", { version: "1.1" }) as {
          write_files: { path: string; content: string }[];
        };
        const text = doc.write_files.find((f) => f.path.endsWith("/workload.service"))?.content ?? "";
        assert.match(text, new RegExp(`^ExecStart=/usr/bin/printf %%s ${value}$`, "m"), value);
      }
    } finally {
      cat.remove();
    }
  });
});
