/**
 * describeRun on a real configuration and plan, and the credential policy end to end: a
 * run with an SSH password and key is recorded on both backends, and neither the database
 * files nor the history output contain the password or the key.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { describeRun } from "../../src/audit/describe.ts";
import { main } from "../../src/cli/program.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { prepareRun } from "../../src/plan/prepare.ts";
import { createRegistry } from "../../src/workloads/registry.ts";
import { BACKENDS, type Backend } from "./helpers.ts";

const PASSWORD = "Sw0rdfish-test-7Q4x";
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk2cVJ0ZXN0a2V5Zm9ydmlydHdvcmthdWRpdA== me@laptop";

function prepared(runId: string) {
  return prepareRun({
    flags: {
      workloads: ["cpu", "disk", "network"],
      "ssh-password": PASSWORD,
      "ssh-key": [KEY],
      context: "admin@test",
    },
    env: {},
    logger: silentLogger,
    runId,
  });
}

test("describeRun: columns from the config, rows from the plan, secrets reduced to a boolean", () => {
  const runId = randomUUID();
  const { config, plan } = prepared(runId);
  const start = describeRun(config, { runId, command: "run", plan, clusterContext: "admin@test" });
  assert.equal(start.runId, runId);
  assert.equal(start.sshAuthConfigured, true);
  assert.equal(start.clusterContext, "admin@test");
  assert.equal(start.dryRun, false);
  assert.deepEqual(
    start.workloads.map((w) => [w.name, w.vmCount, w.hasDataDisk, w.requiresService]),
    [
      ["cpu", 1, false, false],
      ["disk", 1, true, false],
      ["network", 2, false, true],
    ],
  );
  assert.deepEqual(
    start.vms.map((vm) => [vm.name, vm.workload, vm.role ?? null]),
    plan.vms.map((vm) => [vm.name, vm.workload, vm.role ?? null]),
  );
  assert.equal(start.workloads.find((w) => w.name === "disk")?.dataDiskSize, config.diskSize.text);
  assert.equal(start.workloads.find((w) => w.name === "cpu")?.dataDiskSize, undefined);
  assert.equal(start.settings.sshAuthConfigured, true);
  const text = JSON.stringify(start);
  assert.ok(!text.includes(PASSWORD), "no password in the record");
  assert.ok(!text.includes("AAAAC3NzaC1lZDI1NTE5"), "no key in the record");
  assert.ok(!/ssh-?(password|key)/i.test(JSON.stringify(start.settings)), "no SSH setting names either");

  const dry = describeRun(config, { runId, command: "dry-run", plan });
  assert.equal(dry.dryRun, true);
  const cleanup = describeRun(config, { runId, command: "cleanup", cleanupMode: "run-id" });
  assert.deepEqual([cleanup.workloads, cleanup.vms, cleanup.cleanupMode], [[], [], "run-id"]);
});

for (const makeBackend of BACKENDS) {
  describe(`credentials never stored (${makeBackend.name.replace("Backend", "")})`, () => {
    let backend: Backend;
    before(async () => {
      backend = await makeBackend();
    });
    after(() => backend.dispose());

    test("grep over the database and the history output finds no password or key", async () => {
      const runId = randomUUID();
      const { config, plan } = prepared(runId);
      const auditor = await backend.open();
      await auditor.startRun(describeRun(config, { runId, command: "run", plan }));
      for (const object of plan.objects) {
        await auditor.recordResource(runId, {
          kind: object.kind,
          name: object.metadata?.name ?? "",
          namespace: plan.namespace,
          status: "created",
        });
      }
      await auditor.completeRun(runId, "success");
      await auditor.close();

      const outputs: string[] = [];
      const ctx = {
        env: {},
        registry: createRegistry(),
        stdout: (s: string) => outputs.push(s),
        stderr: (s: string) => outputs.push(s),
      };
      assert.equal(await main(["history", "--audit-db", backend.target], ctx), 0);
      assert.equal(await main(["history", "--audit-db", backend.target, "-o", "json"], ctx), 0);
      assert.equal(await main(["history", "show", runId, "--audit-db", backend.target], ctx), 0);
      assert.equal(
        await main(["history", "show", runId, "-o", "json", "--audit-db", backend.target], ctx),
        0,
      );
      const output = outputs.join("");
      assert.ok(output.includes(runId));
      assert.ok(output.includes("SSH access:  configured"));

      let stored: string;
      if (backend.name === "sqlite") {
        const dir = dirname(backend.target);
        stored = readdirSync(dir)
          .map((f) => readFileSync(join(dir, f)).toString("latin1"))
          .join("\n");
        assert.ok(stored.includes(runId), "the check reads the data it should");
      } else {
        const db = await backend.raw();
        const tables = ["audit_log", "workload_details", "vm_details", "resource_details", "events"];
        const dumps = [];
        for (const table of tables) dumps.push(await db.query(`SELECT * FROM ${table}`));
        await db.close();
        stored = JSON.stringify(dumps);
        assert.ok(stored.includes(runId));
      }
      for (const haystack of [stored, output]) {
        assert.ok(!haystack.includes(PASSWORD), "no SSH password");
        assert.ok(!haystack.includes("AAAAC3NzaC1lZDI1NTE5AAAAIHk2"), "no SSH key");
      }
    });
  });
}
