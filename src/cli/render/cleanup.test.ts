import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CleanupPreview, CleanupResult } from "../../ops/cleanup-kinds.ts";
import { renderCleanup } from "./cleanup.ts";

const zero = { vms: 0, dataVolumes: 0, pvcs: 0, services: 0, secrets: 0 };
const preview = {
  namespace: "ns",
  selector: "app.kubernetes.io/managed-by=virtwork",
  objects: { vms: [], dataVolumes: [], pvcs: [], services: [], secrets: [] },
  items: [],
  runIds: [],
  total: 4,
  skippedKinds: [],
  unlistable: [],
  namespaceState: { exists: true, createdByVirtwork: false },
} satisfies CleanupPreview;

function result(over: Partial<CleanupResult>): CleanupResult {
  return {
    dryRun: false,
    deleted: zero,
    alreadyGone: zero,
    deletedItems: [],
    errors: [],
    notes: [],
    remaining: [],
    namespaceDeleted: false,
    ...over,
  };
}

describe("cleanup's summary line (issue 31: plurals)", () => {
  it("one of a kind is singular, none and several are plural", () => {
    const out = renderCleanup(
      {
        outcome: "deleted",
        namespace: "ns",
        preview,
        result: result({
          deleted: { vms: 1, dataVolumes: 0, pvcs: 2, services: 1, secrets: 1 },
          alreadyGone: { ...zero, dataVolumes: 1 },
        }),
      },
      undefined,
    );
    assert.match(
      out,
      /^Deleted 1 VirtualMachine, 0 DataVolumes, 2 PersistentVolumeClaims, 1 Service, 1 Secret\.$/m,
    );
    assert.match(out, /^Note: 1 DataVolume was already gone when cleanup reached it \(/m);
  });
  it("several already gone read as plural", () => {
    const out = renderCleanup(
      {
        outcome: "deleted",
        namespace: "ns",
        preview,
        result: result({ alreadyGone: { ...zero, dataVolumes: 2, pvcs: 1 } }),
      },
      undefined,
    );
    assert.match(
      out,
      /^Note: 2 DataVolumes, 1 PersistentVolumeClaim were already gone when cleanup reached them/m,
    );
  });
});
