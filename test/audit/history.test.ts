/** `virtwork history` and `virtwork history show`, through the CLI's main(). */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { main } from "../../src/cli/program.ts";
import { formatDuration } from "../../src/cli/render/history.ts";
import { createRegistry } from "../../src/workloads/registry.ts";
import { BACKENDS, type Backend, sampleRun } from "./helpers.ts";

async function cli(args: string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    env,
    registry: createRegistry(),
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
  });
  return { code, stdout, stderr };
}

const RUN = "5f0c1d2e-0000-4000-8000-00000000aaaa";
const T0 = new Date("2026-04-01T08:00:00.000Z");
const at = (s: number) => new Date(T0.getTime() + s * 1000);

for (const makeBackend of BACKENDS) {
  describe(`virtwork history (${makeBackend.name.replace("Backend", "")})`, () => {
    let backend: Backend;
    let env: Record<string, string>;
    before(async () => {
      backend = await makeBackend();
      env = { VIRTWORK_AUDIT_DB: backend.target };
      const auditor = await backend.open();
      const run = sampleRun(RUN, { startedAt: T0 });
      await auditor.startRun(run);
      await auditor.recordResource(RUN, {
        kind: "VirtualMachine",
        name: "virtwork-cpu-0",
        namespace: "virtwork",
        status: "created",
        at: at(1),
      });
      await auditor.updateVm(RUN, "virtwork-cpu-0", { phase: "Scheduled", scheduledAt: at(3) });
      await auditor.updateVm(RUN, "virtwork-cpu-0", { phase: "Running", status: "ready", runningAt: at(31) });
      await auditor.completeRun(RUN, "failed", "1 of 3 VMs failed", at(192));
      const dry = sampleRun(undefined, { command: "dry-run", dryRun: true, startedAt: at(1000) });
      await auditor.startRun(dry);
      await auditor.completeRun(dry.runId, "success", undefined, at(1000.4));
      await auditor.close();
    });
    after(() => backend.dispose());

    test("lists runs newest first: id, command, status, started, duration, VM count", async () => {
      const { code, stdout } = await cli(["history"], env);
      assert.equal(code, 0);
      const lines = stdout.trimEnd().split("\n");
      assert.match(lines[0] ?? "", /^RUN ID\s+COMMAND\s+STATUS\s+NAMESPACE\s+STARTED\s+DURATION\s+VMS$/);
      assert.match(lines[1] ?? "", /dry-run\s+success\s+virtwork\s+2026-04-01 08:16:40Z\s+0\.4s\s+3$/);
      assert.match(
        lines[2] ?? "",
        new RegExp(`^${RUN}\\s+run\\s+failed\\s+virtwork\\s+2026-04-01 08:00:00Z\\s+3m12s\\s+3$`),
      );
      assert.equal(lines.length, 3);
    });

    test("-o json and --limit", async () => {
      const { code, stdout } = await cli(["history", "-o", "json", "--limit", "1"], env);
      assert.equal(code, 0);
      const runs = JSON.parse(stdout);
      assert.equal(runs.length, 1);
      assert.equal(runs[0].command, "dry-run");
      assert.equal((await cli(["history", "--limit", "0"], env)).code, 2);
    });

    test("show: settings, VMs with phase and timings, events", async () => {
      const { code, stdout } = await cli(["history", "show", RUN.slice(0, 8)], env);
      assert.equal(code, 0, stdout);
      assert.match(stdout, /^Run:\s+5f0c1d2e-0000-4000-8000-00000000aaaa$/m);
      assert.match(stdout, /^Status:\s+failed: 1 of 3 VMs failed$/m);
      assert.match(stdout, /^Completed:\s+2026-04-01 08:03:12Z \(3m12s\)$/m);
      assert.match(stdout, /^Settings:\n {2}namespace: virtwork$/m);
      assert.match(
        stdout,
        // CREATED, then SCHEDULED, RUNNING and READY after it (this fixture records ready when running).
        /^virtwork-cpu-0\s+cpu\s+-\s+Running\s+ready\s+2026-04-01 08:00:01Z\s+\+2s\s+\+30s\s+\+30s$/m,
      );
      assert.match(stdout, /^virtwork-network-client-0\s+network\s+client\s+-\s+planned\s+-\s+-\s+-\s+-$/m);
      assert.match(stdout, /vm_running\s+VM virtwork-cpu-0 is running after 30\.0s/);
      assert.match(stdout, /execution_completed\s+run failed after 192\.0s \(1 of 3 VMs failed\)/);

      const json = await cli(["history", "show", RUN, "-o", "json"], env);
      const run = JSON.parse(json.stdout);
      assert.equal(run.runId, RUN);
      assert.equal(run.vms[0].runningAt, at(31).toISOString());
      assert.deepEqual(run.events.at(-1).details, { status: "failed", durationMs: 192000 });
    });

    test("an unknown run id is an error", async () => {
      const { code, stderr } = await cli(["history", "show", "0000dead"], env);
      assert.equal(code, 1);
      assert.match(stderr, /^Error: no run 0000dead in .* \(see virtwork history\)\n$/);
    });
  });
}

describe("virtwork history: where the database comes from", () => {
  const dir = mkdtempSync(join(tmpdir(), "virtwork-history-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("the default database in XDG_STATE_HOME; reading never creates it", async () => {
    const env = { XDG_STATE_HOME: join(dir, "state") };
    const { code, stdout } = await cli(["history"], env);
    assert.equal(code, 0);
    assert.equal(stdout, `No runs recorded in ${join(dir, "state", "virtwork", "audit.db")}\n`);
    assert.equal(existsSync(join(dir, "state")), false);
    assert.equal((await cli(["history", "show", RUN], env)).code, 1);
  });

  test("--audit-db from a config file; --no-audit and VIRTWORK_AUDIT=false refuse", async () => {
    const backend = await BACKENDS[0]?.();
    assert.ok(backend);
    const auditor = await backend.open();
    await auditor.startRun(sampleRun(RUN));
    await auditor.close();
    const config = join(dir, "virtwork.yaml");
    writeFileSync(config, `audit_db: ${backend.target}\n`);
    const viaFile = await cli(["history", "-o", "json", "--config", config]);
    assert.equal(viaFile.code, 0, viaFile.stderr);
    assert.equal(JSON.parse(viaFile.stdout)[0].runId, RUN);
    const flag = await cli(["history", "--no-audit", "--audit-db", backend.target]);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /audit is disabled/);
    assert.equal((await cli(["history"], { VIRTWORK_AUDIT: "false" })).code, 2);
    await backend.dispose();
  });

  test("durations read like kubectl's", () => {
    assert.deepEqual([undefined, 0.4, 42.5, 192, 7320].map(formatDuration), [
      "-",
      "0.4s",
      "42.5s",
      "3m12s",
      "2h2m",
    ]);
  });
});
