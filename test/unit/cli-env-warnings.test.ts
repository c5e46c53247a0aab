/**
 * Unknown VIRTWORK_* variables: every command warns once on stderr, naming the variable and
 * the closest known one, and still does its work; the repository's tooling variables are quiet.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { virtwork } from "./cli.ts";

const state = mkdtempSync(join(tmpdir(), "virtwork-env-warnings-"));
const TYPO = { VIRTWORK_NAMESPCE: "perf", XDG_STATE_HOME: state };
const WARNING =
  /ignoring unknown environment variable VIRTWORK_NAMESPCE \(did you mean \\?"VIRTWORK_NAMESPACE\\?"\?\)/g;

describe("unknown VIRTWORK_* variables (built CLI)", { timeout: 60_000 }, () => {
  after(() => rmSync(state, { recursive: true, force: true }));

  for (const args of [["run", "--dry-run", "-w", "cpu"], ["validate"], ["history"], ["workloads"]]) {
    it(`virtwork ${args.join(" ")} warns once and succeeds`, () => {
      const r = virtwork(args, { env: TYPO });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.match(WARNING)?.length, 1, r.stderr);
      assert.ok(!r.stdout.includes("VIRTWORK_NAMESPCE"), "the warning is not on stdout");
    });
  }

  it("the tooling's variables (test cluster, guest tests, Node cache) are not warned about", () => {
    const r = virtwork(["run", "--dry-run", "-w", "cpu"], {
      env: {
        XDG_STATE_HOME: state,
        VIRTWORK_CACHE: "/tmp/x",
        VIRTWORK_CLUSTER_DIR: "/tmp/y",
        VIRTWORK_SANDBOX_NODES: "2",
        VIRTWORK_GUEST_PARALLEL: "2",
        VIRTWORK_FORCE_PINNED_NODE: "1",
      },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /unknown environment variable/);
  });
});
