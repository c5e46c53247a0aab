/**
 * A `virtwork.db` written by the Go original (its DDL rebuilt here from the documented
 * schema, reference §8.1, with rows as the original wrote them) opens and is migrated
 * without losing a row.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openAuditor } from "../../src/audit/open.ts";
import { SCHEMA_VERSION } from "../../src/audit/schema.ts";
import { loadSqlite } from "../../src/audit/sqlite.ts";
import { sampleRun } from "./helpers.ts";

const GO_DDL = `
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL UNIQUE,
  linked_run_ids TEXT,
  command TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'in_progress',
  kubeconfig_path TEXT,
  cluster_context TEXT,
  namespace TEXT NOT NULL,
  container_disk_image TEXT,
  default_cpu_cores INTEGER,
  default_memory TEXT,
  data_disk_size TEXT,
  workloads_csv TEXT,
  total_vm_count INTEGER,
  total_workload_count INTEGER,
  dry_run INTEGER NOT NULL DEFAULT 0,
  ssh_auth_configured INTEGER NOT NULL DEFAULT 0,
  cleanup_mode TEXT,
  wait_for_ready INTEGER NOT NULL DEFAULT 1,
  ready_timeout_seconds INTEGER,
  vms_deleted INTEGER,
  services_deleted INTEGER,
  secrets_deleted INTEGER,
  dvs_deleted INTEGER,
  pvcs_deleted INTEGER,
  namespace_deleted INTEGER,
  started_at TEXT NOT NULL,
  completed_at TEXT,
  error_summary TEXT
);
CREATE INDEX idx_audit_log_started_at ON audit_log(started_at);
CREATE INDEX idx_audit_log_namespace ON audit_log(namespace);
CREATE INDEX idx_audit_log_status ON audit_log(status);
CREATE INDEX idx_audit_log_run_id ON audit_log(run_id);
CREATE TABLE workload_details (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  audit_id INTEGER NOT NULL REFERENCES audit_log(id),
  workload_type TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  vm_count INTEGER NOT NULL,
  cpu_cores INTEGER NOT NULL,
  memory TEXT NOT NULL,
  has_data_disk INTEGER NOT NULL DEFAULT 0,
  data_disk_size TEXT,
  requires_service INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'pending'
);
CREATE INDEX idx_workload_details_audit_id ON workload_details(audit_id);
CREATE INDEX idx_workload_details_workload_type ON workload_details(workload_type);
CREATE TABLE vm_details (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  audit_id INTEGER NOT NULL REFERENCES audit_log(id),
  workload_id INTEGER REFERENCES workload_details(id),
  vm_name TEXT NOT NULL,
  namespace TEXT NOT NULL,
  component TEXT NOT NULL,
  role TEXT,
  cpu_cores INTEGER NOT NULL,
  memory TEXT NOT NULL,
  container_disk_image TEXT NOT NULL,
  has_data_disk INTEGER NOT NULL DEFAULT 0,
  data_disk_size TEXT,
  phase TEXT,
  status TEXT NOT NULL DEFAULT 'planned',
  created_at TEXT,
  ready_at TEXT,
  deleted_at TEXT
);
CREATE INDEX idx_vm_details_audit_id ON vm_details(audit_id);
CREATE INDEX idx_vm_details_workload_id ON vm_details(workload_id);
CREATE INDEX idx_vm_details_vm_name ON vm_details(vm_name);
CREATE TABLE resource_details (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  audit_id INTEGER NOT NULL REFERENCES audit_log(id),
  resource_type TEXT NOT NULL,
  resource_name TEXT NOT NULL,
  namespace TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'created',
  created_at TEXT,
  deleted_at TEXT
);
CREATE INDEX idx_resource_details_audit_id ON resource_details(audit_id);
CREATE INDEX idx_resource_details_resource_type ON resource_details(resource_type);
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  audit_id INTEGER NOT NULL REFERENCES audit_log(id),
  vm_id INTEGER REFERENCES vm_details(id),
  workload_id INTEGER REFERENCES workload_details(id),
  event_type TEXT NOT NULL,
  message TEXT,
  error_detail TEXT,
  occurred_at TEXT NOT NULL
);
CREATE INDEX idx_events_audit_id ON events(audit_id);
CREATE INDEX idx_events_event_type ON events(event_type);
CREATE INDEX idx_events_occurred_at ON events(occurred_at);
INSERT INTO schema_version (version) VALUES (1);
`;

const RUN = "11111111-2222-4333-8444-555555555555";
const CLEANUP = "99999999-2222-4333-8444-555555555555";

/** Rows the way the Go original writes them: second-precision times, empty workloads_csv, VMs 'created'. */
const GO_ROWS = `
INSERT INTO audit_log (run_id, command, status, kubeconfig_path, namespace, container_disk_image, default_cpu_cores,
  default_memory, data_disk_size, workloads_csv, dry_run, ssh_auth_configured, wait_for_ready, ready_timeout_seconds,
  started_at, completed_at)
VALUES ('${RUN}', 'run', 'success', '/root/.kube/config', 'virtwork', 'quay.io/containerdisks/fedora:42', 2, '2Gi',
  '10Gi', '', 0, 1, 1, 600, '2025-05-04T03:02:01Z', '2025-05-04T03:04:31Z');
INSERT INTO workload_details (audit_id, workload_type, vm_count, cpu_cores, memory, has_data_disk, data_disk_size,
  requires_service, status) VALUES (1, 'cpu', 1, 2, '2Gi', 0, '10Gi', 0, 'created');
INSERT INTO vm_details (audit_id, vm_name, namespace, component, cpu_cores, memory, container_disk_image, status, created_at)
VALUES (1, 'virtwork-cpu-0', 'virtwork', 'cpu', 2, '2Gi', 'quay.io/containerdisks/fedora:42', 'created', '2025-05-04T03:02:05Z');
INSERT INTO resource_details (audit_id, resource_type, resource_name, namespace, status, created_at)
VALUES (1, 'Secret', 'virtwork-cpu-0-cloudinit', 'virtwork', 'created', '2025-05-04T03:02:03Z');
INSERT INTO events (audit_id, event_type, message, occurred_at) VALUES
  (1, 'execution_started', 'Starting execution', '2025-05-04T03:02:01Z'),
  (1, 'vm_created', 'VM virtwork-cpu-0 created', '2025-05-04T03:02:05Z'),
  (1, 'vm_ready', 'VM virtwork-cpu-0 is ready', '2025-05-04T03:04:30Z');
INSERT INTO audit_log (run_id, linked_run_ids, command, status, namespace, dry_run, ssh_auth_configured, cleanup_mode,
  wait_for_ready, vms_deleted, services_deleted, secrets_deleted, dvs_deleted, pvcs_deleted, namespace_deleted,
  started_at, completed_at)
VALUES ('${CLEANUP}', '["${RUN}"]', 'cleanup', 'success', 'virtwork', 0, 0, 'all', 1, 1, 0, 1, 0, 0, 0,
  '2025-05-05T00:00:00Z', '2025-05-05T00:00:09Z');
`;

const dir = mkdtempSync(join(tmpdir(), "virtwork-audit-go-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const TABLES = ["audit_log", "workload_details", "vm_details", "resource_details", "events"];

test("a database created by the Go original is migrated in place and keeps every row", async () => {
  const path = join(dir, "virtwork.db");
  const { DatabaseSync } = loadSqlite();
  const go = new DatabaseSync(path);
  go.exec("PRAGMA journal_mode = WAL");
  go.exec(GO_DDL);
  go.exec(GO_ROWS);
  const before = Object.fromEntries(
    TABLES.map((t) => [t, go.prepare(`SELECT * FROM ${t} ORDER BY id`).all()]),
  );
  go.close();

  const auditor = await openAuditor({ enabled: true, target: path, env: {} });
  try {
    const check = new DatabaseSync(path);
    try {
      assert.deepEqual(
        check
          .prepare("SELECT version FROM schema_version")
          .all()
          .map((r) => ({ ...r })),
        [{ version: SCHEMA_VERSION }],
      );
      for (const table of TABLES) {
        const rows = check.prepare(`SELECT * FROM ${table} ORDER BY id`).all() as Record<string, unknown>[];
        const old = before[table] as Record<string, unknown>[];
        assert.equal(rows.length, old.length, `${table} keeps its rows`);
        // The old columns keep their values; the new ones are added (NULL for old rows).
        rows.forEach((row, i) => {
          for (const [column, value] of Object.entries(old[i] ?? {}))
            assert.deepEqual(row[column], value, `${table}.${column}`);
        });
      }
      const columns = (t: string) =>
        (check.prepare(`PRAGMA table_info(${t})`).all() as { name: string }[]).map((c) => c.name);
      assert.ok(columns("audit_log").includes("settings"));
      assert.ok(
        columns("vm_details").includes("scheduled_at") && columns("vm_details").includes("running_at"),
      );
      assert.ok(columns("events").includes("details"));
      assert.equal(check.prepare("PRAGMA integrity_check").get()?.integrity_check, "ok");
    } finally {
      check.close();
    }

    // The old runs read back through history…
    const runs = await auditor.listRuns();
    assert.deepEqual(
      runs.map((r) => [r.runId, r.status, r.vmCount, r.durationSeconds]),
      [
        [CLEANUP, "success", 0, 9],
        [RUN, "success", 1, 150],
      ],
    );
    const old = await auditor.getRun(RUN);
    assert.deepEqual(old?.settings, {});
    assert.deepEqual(
      old?.events.map((e) => e.type),
      ["execution_started", "vm_created", "vm_ready"],
    );
    assert.equal(old?.vms[0]?.createdAt, "2025-05-04T03:02:05Z");
    assert.deepEqual((await auditor.getRun(CLEANUP))?.linkedRunIds, [RUN]);

    // …and new runs are recorded next to them, and may clean up the old ones.
    const fresh = sampleRun();
    await auditor.startRun(fresh);
    await auditor.completeRun(fresh.runId, "success");
    const cleanupId = "77777777-2222-4333-8444-555555555555";
    await auditor.startRun({ ...sampleRun(cleanupId), command: "cleanup", workloads: [], vms: [] });
    await auditor.recordCleanup(cleanupId, {
      deleted: [{ kind: "VirtualMachine", name: "virtwork-cpu-0", namespace: "virtwork", runId: RUN }],
      namespaceDeleted: false,
    });
    assert.equal((await auditor.getRun(RUN))?.vms[0]?.status, "deleted");
    assert.equal((await auditor.listRuns()).length, 4);
  } finally {
    await auditor.close();
  }

  // Opening again is a no-op.
  const again = await openAuditor({ enabled: true, target: path, env: {} });
  assert.equal((await again.listRuns()).length, 4);
  await again.close();
});

test("a database from a newer virtwork is refused, not downgraded", async () => {
  const path = join(dir, "newer.db");
  const { DatabaseSync } = loadSqlite();
  const db = new DatabaseSync(path);
  db.exec(
    `CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (${SCHEMA_VERSION + 1});`,
  );
  db.close();
  await assert.rejects(
    openAuditor({ enabled: true, target: path, env: {} }),
    /newer than this virtwork knows/,
  );
});

test("the default database lives in the XDG state directory, which is created", async () => {
  const { defaultSqlitePath } = await import("../../src/audit/sqlite.ts");
  assert.equal(
    defaultSqlitePath({ XDG_STATE_HOME: "/x/state", HOME: "/home/me" }),
    "/x/state/virtwork/audit.db",
  );
  assert.equal(defaultSqlitePath({ HOME: "/home/me" }), "/home/me/.local/state/virtwork/audit.db");
  assert.equal(
    defaultSqlitePath({ XDG_STATE_HOME: "relative", HOME: "/home/me" }),
    "/home/me/.local/state/virtwork/audit.db",
  );
  const env = { XDG_STATE_HOME: join(dir, "state") };
  const auditor = await openAuditor({ enabled: true, env });
  assert.equal(auditor.location, join(dir, "state", "virtwork", "audit.db"));
  await auditor.close();
});
