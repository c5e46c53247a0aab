import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { virtwork } from "../cli.ts";
import {
  assertExecScriptsClean,
  assertUnitsVerify,
  execStart,
  loadShipped,
  planShipped,
  unitText,
} from "./shipped.ts";

describe("catalog/sysbench (single-role)", () => {
  it("loads without warnings; four int params", () => {
    const w = loadShipped("sysbench");
    assert.deepEqual(w.entry.warnings, []);
    assert.deepEqual(
      w.params.map((p) => [p.name, p.type, p.default]),
      [
        ["threads", "int", "4"],
        ["cpu-max-prime", "int", "20000"],
        ["test-duration", "int", "60"],
        ["loop-delay", "int", "10"],
      ],
    );
  });

  it("one VM per --vm-count, no role label, no disk, no Service", () => {
    const { vms, services, plan } = planShipped("sysbench", { "vm-count": "3" });
    assert.deepEqual(
      vms.map((v) => v.metadata?.name),
      ["virtwork-sysbench-0", "virtwork-sysbench-1", "virtwork-sysbench-2"],
    );
    assert.equal(vms[0]?.metadata?.labels?.["virtwork/role"], undefined);
    assert.equal(vms[0]?.spec?.dataVolumeTemplates, undefined);
    assert.equal(services.length, 0);
    assert.deepEqual(plan.workloads, [{ name: "sysbench", vms: 3, roles: {} }]);
  });

  it("installs sysbench and runs the benchmark loop with the params", () => {
    const { userData } = planShipped("sysbench", { params: ["sysbench.threads=8"] });
    const doc = userData("virtwork-sysbench-0");
    assert.deepEqual(doc.packages, ["sysbench"]);
    assert.deepEqual(doc.runcmd, [
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "workload.service"],
    ]);
    const unit = unitText(doc, "workload.service");
    assert.equal(
      execStart(unit),
      "/bin/bash -c 'while true; do sysbench cpu --threads=8 --time=60 --cpu-max-prime=20000 run; sleep 10; done'",
    );
    assertExecScriptsClean(unit);
    assertUnitsVerify({ packages: [], runcmd: [], files: doc.write_files as never });
  });

  it("deploys with --from-catalog from the built CLI", () => {
    const r = virtwork(["run", "--dry-run", "--catalog-dir", "catalog", "--from-catalog", "sysbench"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /name: virtwork-sysbench-0\n/);
    const v = virtwork(["validate", "--catalog-dir", "catalog", "sysbench"]);
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /^OK {4}sysbench$/m);
  });
});
