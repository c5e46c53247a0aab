import assert from "node:assert/strict";
import { test } from "node:test";
import { stepLine } from "./progress.ts";

test("step lines (issue 31): a server dry run says what would be created; a step that fell short shows ✗", () => {
  assert.equal(
    stepLine("secrets", { ok: true, ms: 200, counts: { wouldCreate: 3, existing: 0 } }),
    " ✓ Creating secrets: 3 would be created (server dry run) (0.2s)",
  );
  assert.equal(
    stepLine("secrets", { ok: true, ms: 200, counts: { created: 3, existing: 1 } }),
    " ✓ Creating secrets: 3 created, 1 already present (0.2s)",
  );
  assert.equal(
    stepLine("wait until gone", { ok: false, ms: 1500, counts: { remaining: 1 }, error: "1 still there" }),
    " ✗ Waiting until they are gone: 1 still there (1.5s)",
  );
});
