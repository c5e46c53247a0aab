/** Every record type, on both backends, checked on the rows as stored and as read back. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { type Auditor, NoopAuditor } from "../../src/audit/auditor.ts";
import { guardAuditor } from "../../src/audit/open.ts";
import { SCHEMA_VERSION } from "../../src/audit/schema.ts";
import type { Row, SqlDriver } from "../../src/audit/sql.ts";
import { BACKENDS, type Backend, sampleRun } from "./helpers.ts";

const T0 = new Date("2026-03-01T10:00:00.000Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

for (const makeBackend of BACKENDS) {
  describe(`audit records (${makeBackend.name.replace("Backend", "")})`, () => {
    let backend: Backend;
    let auditor: Auditor;
    let raw: SqlDriver;
    const one = async (sql: string, params: (string | number)[] = []): Promise<Row> => {
      const rows = await raw.query(sql, params);
      assert.equal(rows.length, 1, `one row from ${sql}`);
      return rows[0] as Row;
    };
    const auditIdOf = async (runId: string) =>
      Number((await one("SELECT id FROM audit_log WHERE run_id = ?", [runId])).id);

    before(async () => {
      backend = await makeBackend();
      auditor = await backend.open();
      raw = await backend.raw();
    });
    after(async () => {
      await auditor.close();
      await raw.close();
      await backend.dispose();
    });

    test("a fresh database is at the current schema version", async () => {
      assert.equal(Number((await one("SELECT version FROM schema_version")).version), SCHEMA_VERSION);
      assert.equal(auditor.backend, backend.name);
    });

    test("startRun fills every audit_log column a run has, and plans workloads and VMs", async () => {
      const start = sampleRun(randomUUID(), { startedAt: T0 });
      await auditor.startRun(start);
      const row = await one("SELECT * FROM audit_log WHERE run_id = ?", [start.runId]);
      const runColumns = [
        "command",
        "status",
        "kubeconfig_path",
        "cluster_context",
        "namespace",
        "container_disk_image",
        "default_cpu_cores",
        "default_memory",
        "data_disk_size",
        "workloads_csv",
        "total_vm_count",
        "total_workload_count",
        "dry_run",
        "ssh_auth_configured",
        "wait_for_ready",
        "ready_timeout_seconds",
        "started_at",
        "settings",
      ];
      for (const column of runColumns) assert.notEqual(row[column] ?? null, null, `audit_log.${column}`);
      assert.equal(row.status, "in_progress");
      assert.equal(row.workloads_csv, "cpu,network");
      assert.equal(Number(row.total_vm_count), 3);
      assert.equal(Number(row.total_workload_count), 2);
      assert.equal(Number(row.ssh_auth_configured), 1);
      assert.equal(Number(row.dry_run), 0);
      assert.equal(row.cleanup_mode, null);

      const workloads = await raw.query("SELECT * FROM workload_details WHERE audit_id = ? ORDER BY id", [
        Number(row.id),
      ]);
      assert.deepEqual(
        workloads.map((w) => [
          w.workload_type,
          Number(w.enabled),
          Number(w.vm_count),
          Number(w.cpu_cores),
          w.memory,
          Number(w.has_data_disk),
          w.data_disk_size,
          Number(w.requires_service),
          w.status,
        ]),
        [
          ["cpu", 1, 1, 2, "2Gi", 0, null, 0, "planned"],
          ["network", 1, 2, 4, "4Gi", 1, "10Gi", 1, "planned"],
        ],
      );
      const vms = await raw.query("SELECT * FROM vm_details WHERE audit_id = ? ORDER BY id", [
        Number(row.id),
      ]);
      assert.deepEqual(
        vms.map((v) => [v.vm_name, v.namespace, v.component, v.role, v.status, v.container_disk_image]),
        [
          ["virtwork-cpu-0", "virtwork", "cpu", null, "planned", "quay.io/containerdisks/fedora:42"],
          [
            "virtwork-network-server-0",
            "virtwork",
            "network",
            "server",
            "planned",
            "quay.io/containerdisks/fedora:42",
          ],
          [
            "virtwork-network-client-0",
            "virtwork",
            "network",
            "client",
            "planned",
            "quay.io/containerdisks/fedora:42",
          ],
        ],
      );
      for (const v of vms) assert.notEqual(v.workload_id, null, `${v.vm_name} is linked to its workload row`);

      const detail = await auditor.getRun(start.runId);
      assert.ok(detail);
      assert.deepEqual(
        detail.events.map((e) => e.type),
        ["execution_started", "planned"],
      );
      assert.deepEqual(detail.settings, start.settings);
      assert.equal(detail.startedAt, T0.toISOString());
      assert.equal(detail.clusterContext, "admin@test");
    });

    test("startRun twice with one run id is rejected (the run id is unique)", async () => {
      const start = sampleRun();
      await auditor.startRun(start);
      await assert.rejects(auditor.startRun(start));
      // The queue goes on after a failed call.
      await auditor.recordEvent(start.runId, { type: "retry", message: "still writable" });
    });

    test("resources: created, skipped and failed objects, each with its event", async () => {
      const start = sampleRun(randomUUID(), { startedAt: T0 });
      await auditor.startRun(start);
      const id = start.runId;
      await auditor.recordResource(id, {
        kind: "Namespace",
        name: "virtwork",
        namespace: "virtwork",
        status: "skipped",
        at: at(1),
      });
      await auditor.recordResource(id, {
        kind: "Service",
        name: "virtwork-iperf3-server",
        namespace: "virtwork",
        status: "created",
        at: at(2),
      });
      await auditor.recordResource(id, {
        kind: "Secret",
        name: "virtwork-cpu-0-cloudinit",
        namespace: "virtwork",
        status: "created",
        at: at(3),
      });
      await auditor.recordResource(id, {
        kind: "VirtualMachine",
        name: "virtwork-cpu-0",
        namespace: "virtwork",
        status: "created",
        at: at(4),
      });
      await auditor.recordResource(id, {
        kind: "VirtualMachine",
        name: "virtwork-network-server-0",
        namespace: "virtwork",
        status: "failed",
        error: "admission webhook denied the request",
        at: at(5),
      });
      const auditId = await auditIdOf(id);
      const resources = await raw.query(
        "SELECT resource_type, resource_name, namespace, status, created_at, error_detail FROM resource_details WHERE audit_id = ? ORDER BY id",
        [auditId],
      );
      assert.deepEqual(
        resources.map((r) => [r.resource_type, r.resource_name, r.status, r.created_at === null]),
        [
          ["Namespace", "virtwork", "skipped", false],
          ["Service", "virtwork-iperf3-server", "created", false],
          ["Secret", "virtwork-cpu-0-cloudinit", "created", false],
          ["VirtualMachine", "virtwork-cpu-0", "created", false],
          ["VirtualMachine", "virtwork-network-server-0", "failed", true],
        ],
      );
      const vm = await one("SELECT status, created_at FROM vm_details WHERE audit_id = ? AND vm_name = ?", [
        auditId,
        "virtwork-cpu-0",
      ]);
      assert.equal(vm.status, "created");
      assert.equal(new Date(vm.created_at as string).toISOString(), at(4).toISOString());
      const failed = await one(
        "SELECT status, error_detail FROM vm_details WHERE audit_id = ? AND vm_name = ?",
        [auditId, "virtwork-network-server-0"],
      );
      assert.deepEqual(
        [failed.status, failed.error_detail],
        ["failed", "admission webhook denied the request"],
      );

      const detail = await auditor.getRun(id);
      assert.ok(detail);
      const events = detail.events.slice(2);
      assert.deepEqual(
        events.map((e) => [e.type, e.vm ?? null, e.workload ?? null]),
        [
          ["namespace_ensured", null, null],
          ["object_created", null, null],
          ["object_created", null, null],
          ["object_created", "virtwork-cpu-0", "cpu"],
          ["object_failed", "virtwork-network-server-0", "network"],
        ],
      );
      assert.equal(events[0]?.message, "Namespace virtwork already existed");
      assert.equal(events[4]?.error, "admission webhook denied the request");
    });

    test("VMs: phase, created → scheduled → running timestamps, ready_at and a vm_running event with timings", async () => {
      const start = sampleRun(randomUUID(), { startedAt: T0 });
      await auditor.startRun(start);
      const id = start.runId;
      const name = "virtwork-network-server-0";
      await auditor.recordResource(id, {
        kind: "VirtualMachine",
        name,
        namespace: "virtwork",
        status: "created",
        at: at(1),
      });
      await auditor.updateVm(id, name, { phase: "Pending" });
      await auditor.updateVm(id, name, { phase: "Scheduled", scheduledAt: at(4) });
      await auditor.updateVm(id, name, {
        phase: "Running",
        status: "ready",
        runningAt: "2026-03-01T10:00:11Z",
      });
      // A repeated report changes nothing and writes no second event.
      await auditor.updateVm(id, name, { phase: "Running", status: "ready", runningAt: at(20) });
      await auditor.updateVm(id, "virtwork-cpu-0", {
        phase: "Failed",
        status: "failed",
        createdAt: at(1),
        error: "ErrImagePull",
      });
      const auditId = await auditIdOf(id);
      const row = await one("SELECT * FROM vm_details WHERE audit_id = ? AND vm_name = ?", [auditId, name]);
      assert.equal(row.phase, "Running");
      assert.equal(row.status, "ready");
      const iso = (v: unknown) => new Date(v as string).toISOString();
      assert.equal(iso(row.created_at), at(1).toISOString());
      assert.equal(iso(row.scheduled_at), at(4).toISOString());
      assert.equal(iso(row.running_at), at(11).toISOString());
      assert.equal(iso(row.ready_at), at(11).toISOString());

      const detail = await auditor.getRun(id);
      assert.ok(detail);
      const running = detail.events.filter((e) => e.type === "vm_running");
      assert.equal(running.length, 1);
      assert.equal(running[0]?.vm, name);
      assert.equal(running[0]?.workload, "network");
      assert.deepEqual(running[0]?.details, {
        phase: "Running",
        createdToScheduledMs: 3000,
        scheduledToRunningMs: 7000,
        createdToRunningMs: 10000,
      });
      assert.equal(running[0]?.message, `VM ${name} is running after 10.0s`);
      const failed = detail.events.find((e) => e.type === "vm_failed");
      assert.equal(failed?.vm, "virtwork-cpu-0");
      assert.equal(failed?.error, "ErrImagePull");
      const vm = detail.vms.find((v) => v.name === "virtwork-cpu-0");
      assert.deepEqual([vm?.phase, vm?.status, vm?.error], ["Failed", "failed", "ErrImagePull"]);
      await assert.rejects(
        auditor.updateVm(id, "virtwork-nope-0", { phase: "Running" }),
        /no VM virtwork-nope-0/,
      );
    });

    test("workload status and free-form events (retry with details, linked to a VM)", async () => {
      const start = sampleRun();
      await auditor.startRun(start);
      const id = start.runId;
      await auditor.updateWorkload(id, "cpu", "created");
      await auditor.updateWorkload(id, "network", "failed");
      await auditor.recordEvent(id, {
        type: "retry",
        message: "create VirtualMachine virtwork-cpu-0: 429 Too Many Requests, retrying in 250ms",
        error: "429 Too Many Requests",
        vm: "virtwork-cpu-0",
        details: { attempt: 2, delayMs: 250 },
      });
      await auditor.recordEvent(id, { type: "workload_skipped", workload: "network", message: "disabled" });
      const detail = await auditor.getRun(id);
      assert.ok(detail);
      assert.deepEqual(
        detail.workloadRows.map((w) => [w.name, w.status]),
        [
          ["cpu", "created"],
          ["network", "failed"],
        ],
      );
      const retry = detail.events.find((e) => e.type === "retry");
      assert.deepEqual(
        [retry?.vm, retry?.workload, retry?.details, retry?.error],
        ["virtwork-cpu-0", "cpu", { attempt: 2, delayMs: 250 }, "429 Too Many Requests"],
      );
      assert.equal(detail.events.find((e) => e.type === "workload_skipped")?.workload, "network");
      const auditId = await auditIdOf(id);
      const linked = await one(
        "SELECT vm_id, workload_id FROM events WHERE audit_id = ? AND event_type = 'retry'",
        [auditId],
      );
      assert.notEqual(linked.vm_id, null);
      assert.notEqual(linked.workload_id, null);
      await assert.rejects(auditor.recordEvent(randomUUID(), { type: "retry" }), /startRun was not called/);
    });

    test("completion: success, failed with a summary, cancelled with an interrupted event", async () => {
      const runs = { success: sampleRun(), failed: sampleRun(), cancelled: sampleRun() };
      for (const run of Object.values(runs)) await auditor.startRun({ ...run, startedAt: T0 });
      await auditor.completeRun(runs.success.runId, "success", undefined, at(42.5));
      await auditor.completeRun(
        runs.failed.runId,
        "failed",
        "2 of 3 VMs failed: virtwork-cpu-0 (ErrImagePull)",
        at(60),
      );
      await auditor.completeRun(runs.cancelled.runId, "cancelled", "interrupted by signal (SIGINT)", at(5));

      const success = await auditor.getRun(runs.success.runId);
      assert.equal(success?.status, "success");
      assert.equal(success?.durationSeconds, 42.5);
      assert.equal(success?.completedAt, at(42.5).toISOString());
      assert.equal(success?.errorSummary, undefined);
      assert.deepEqual(success?.events.at(-1)?.details, { status: "success", durationMs: 42500 });

      const failed = await auditor.getRun(runs.failed.runId);
      assert.equal(failed?.status, "failed");
      assert.equal(failed?.errorSummary, "2 of 3 VMs failed: virtwork-cpu-0 (ErrImagePull)");
      assert.equal(failed?.events.at(-1)?.type, "execution_completed");
      assert.equal(failed?.events.at(-1)?.error, failed?.errorSummary);

      const cancelled = await auditor.getRun(runs.cancelled.runId);
      assert.equal(cancelled?.status, "cancelled");
      assert.deepEqual(
        cancelled?.events.slice(-2).map((e) => e.type),
        ["interrupted", "execution_completed"],
      );
      await assert.rejects(auditor.completeRun(randomUUID(), "success"), /startRun was not called/);
    });

    test("cleanup: links the runs it removed objects of, marks their rows deleted, counts per kind", async () => {
      const target = sampleRun(randomUUID(), { startedAt: T0 });
      const other = sampleRun(randomUUID(), { startedAt: T0 });
      for (const run of [target, other]) {
        await auditor.startRun(run);
        await auditor.recordResource(run.runId, {
          kind: "Namespace",
          name: "virtwork",
          namespace: "virtwork",
          status: "created",
        });
        for (const vm of run.vms) {
          await auditor.recordResource(run.runId, {
            kind: "Secret",
            name: `${vm.name}-cloudinit`,
            namespace: "virtwork",
            status: "created",
          });
          await auditor.recordResource(run.runId, {
            kind: "VirtualMachine",
            name: vm.name,
            namespace: "virtwork",
            status: "created",
          });
        }
        await auditor.completeRun(run.runId, "success");
      }
      const cleanupId = randomUUID();
      await auditor.startRun({
        runId: cleanupId,
        command: "cleanup",
        namespace: "virtwork",
        settings: { namespace: "virtwork", runId: target.runId },
        dryRun: false,
        sshAuthConfigured: false,
        waitForReady: true,
        cleanupMode: "run-id",
        workloads: [],
        vms: [],
      });
      const deleted = [
        ...target.vms.map((vm) => ({
          kind: "VirtualMachine",
          name: vm.name,
          namespace: "virtwork",
          runId: target.runId,
        })),
        ...target.vms.map((vm) => ({
          kind: "Secret",
          name: `${vm.name}-cloudinit`,
          namespace: "virtwork",
          runId: target.runId,
        })),
        {
          kind: "DataVolume",
          name: "data-virtwork-network-server-0",
          namespace: "virtwork",
          runId: target.runId,
        },
        {
          kind: "PersistentVolumeClaim",
          name: "data-virtwork-network-server-0",
          namespace: "virtwork",
          runId: target.runId,
        },
        { kind: "Service", name: "virtwork-iperf3-server", namespace: "virtwork", runId: target.runId },
      ];
      await auditor.recordCleanup(cleanupId, { deleted, namespaceDeleted: true, at: at(100) });
      await auditor.completeRun(cleanupId, "success");

      const row = await one("SELECT * FROM audit_log WHERE run_id = ?", [cleanupId]);
      assert.deepEqual(
        [
          row.vms_deleted,
          row.services_deleted,
          row.secrets_deleted,
          row.dvs_deleted,
          row.pvcs_deleted,
          row.namespace_deleted,
        ].map(Number),
        [3, 1, 3, 1, 1, 1],
      );
      assert.equal(row.cleanup_mode, "run-id");
      const cleanup = await auditor.getRun(cleanupId);
      assert.deepEqual(cleanup?.linkedRunIds, [target.runId]);
      assert.deepEqual(cleanup?.deleted, {
        VirtualMachine: 3,
        Service: 1,
        Secret: 3,
        DataVolume: 1,
        PersistentVolumeClaim: 1,
        Namespace: 1,
      });
      assert.deepEqual(
        cleanup?.events.map((e) => e.type),
        ["cleanup_started", "cleanup_deleted", "cleanup_completed"],
      );
      assert.deepEqual(cleanup?.events[1]?.details, {
        runIds: [target.runId],
        counts: { VirtualMachine: 3, Service: 1, Secret: 3, DataVolume: 1, PersistentVolumeClaim: 1 },
        namespaceDeleted: true,
      });

      const removed = await auditor.getRun(target.runId);
      assert.ok(
        removed?.vms.every((vm) => vm.status === "deleted" && vm.deletedAt === at(100).toISOString()),
      );
      assert.ok(removed?.resources.every((r) => r.status === "deleted"));
      const untouched = await auditor.getRun(other.runId);
      assert.ok(untouched?.vms.every((vm) => vm.status === "created" && vm.deletedAt === undefined));
      assert.ok(untouched?.resources.every((r) => r.status === "created"));
    });

    test("history reads: newest first with VM counts, and a unique run-id prefix finds a run", async () => {
      const older = sampleRun(randomUUID(), { startedAt: new Date("2030-01-01T00:00:00Z") });
      const newer = sampleRun(randomUUID(), { startedAt: new Date("2030-01-02T00:00:00Z") });
      await auditor.startRun(older);
      await auditor.startRun(newer);
      const runs = await auditor.listRuns({ limit: 2 });
      assert.deepEqual(
        runs.map((r) => r.runId),
        [newer.runId, older.runId],
      );
      assert.equal(runs[0]?.vmCount, 3);
      assert.deepEqual(runs[0]?.workloads, ["cpu", "network"]);
      assert.equal(runs[0]?.durationSeconds, undefined);
      assert.equal((await auditor.getRun(newer.runId.slice(0, 13)))?.runId, newer.runId);
      assert.equal(await auditor.getRun(randomUUID()), undefined);
      const a = sampleRun("abcd0000-0000-4000-8000-000000000001");
      const b = sampleRun("abcd0000-0000-4000-8000-000000000002");
      await auditor.startRun(a);
      await auditor.startRun(b);
      await assert.rejects(auditor.getRun("abcd0000"), /matches several runs/);
    });

    test("calls that are not awaited are applied in call order; close() waits for them", async () => {
      const second = await backend.open();
      const start = sampleRun();
      const pending = [
        second.startRun(start),
        ...Array.from({ length: 20 }, (_, i) =>
          second.recordEvent(start.runId, { type: "retry", details: { attempt: i } }),
        ),
        second.completeRun(start.runId, "success"),
      ];
      await second.close();
      await Promise.all(pending);
      const detail = await auditor.getRun(start.runId);
      assert.equal(detail?.status, "success");
      assert.deepEqual(
        detail?.events.filter((e) => e.type === "retry").map((e) => e.details?.attempt),
        Array.from({ length: 20 }, (_, i) => i),
      );
      await assert.rejects(second.recordEvent(start.runId, { type: "late" }), /closed/);
    });

    test("guardAuditor turns failed writes into warnings", async () => {
      const warnings: Record<string, unknown>[] = [];
      const logger = {
        debug() {},
        info() {},
        error() {},
        warn: (msg: string, fields?: Record<string, unknown>) => warnings.push({ msg, ...fields }),
      };
      const guarded = guardAuditor(auditor, logger);
      await guarded.recordEvent("no-such-run", { type: "retry" });
      await guarded.completeRun("no-such-run", "cancelled");
      assert.equal(warnings.length, 2);
      assert.equal(warnings[0]?.msg, "audit: could not record");
      assert.equal(warnings[0]?.call, "recordEvent");
      assert.match(String(warnings[1]?.error), /startRun was not called/);
      assert.equal(guarded.backend, backend.name);
    });
  });
}

test("the no-op auditor records nothing and never fails", async () => {
  const auditor = new NoopAuditor();
  const start = sampleRun();
  await auditor.startRun(start);
  await auditor.recordEvent(start.runId, { type: "retry" });
  await auditor.completeRun(start.runId, "cancelled");
  assert.deepEqual(await auditor.listRuns(), []);
  assert.equal(await auditor.getRun(start.runId), undefined);
  assert.equal(auditor.backend, "none");
  await auditor.close();
});
