import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ROOT, virtwork } from "./cli.ts";

// The printed plan of the default run and of `--workloads all`, byte for byte, with the run id
// masked (a fresh uuid each run; the YAML emitter quotes it or not depending on its digits).
// Refactors must not change a byte. After an intended change of the output, regenerate with
//   VIRTWORK_UPDATE_GOLDEN=1 node --test --experimental-strip-types test/unit/dry-run-golden.test.ts
const UUID = /"?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"?/g;
const CASES: { file: string; args: string[] }[] = [
  { file: "dry-run-default.yaml", args: ["run", "--dry-run"] },
  { file: "dry-run-all.yaml", args: ["run", "--dry-run", "--workloads", "all"] },
  { file: "dry-run-default.json", args: ["run", "--dry-run", "-o", "json"] },
];

describe("dry-run output is byte-identical to the golden files", () => {
  for (const { file, args } of CASES) {
    it(`virtwork ${args.join(" ")} = test/unit/golden/${file}`, () => {
      const r = virtwork(args);
      assert.equal(r.status, 0, r.stderr);
      const ids = new Set(r.stdout.match(UUID)?.map((m) => m.replaceAll('"', "")));
      assert.equal(ids.size, 1, "one run id throughout the plan");
      const masked = r.stdout.replace(UUID, "<RUN-ID>");
      const path = `${ROOT}test/unit/golden/${file}`;
      if (process.env.VIRTWORK_UPDATE_GOLDEN === "1") writeFileSync(path, masked);
      assert.equal(masked, readFileSync(path, "utf8"));
    });
  }
});
