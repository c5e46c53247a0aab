import type { RunDetail, RunSummary } from "./auditor.ts";
import { type Row, readJson, readNumber, readText, readTime, type SqlDriver } from "./sql.ts";

const SUMMARY_COLUMNS = `a.id, a.run_id, a.command, a.status, a.namespace, a.started_at, a.completed_at,
  a.total_vm_count, a.workloads_csv, a.error_summary,
  (SELECT COUNT(*) FROM vm_details v WHERE v.audit_id = a.id) AS vm_rows`;

function summary(row: Row): RunSummary {
  const startedAt = readTime(row.started_at) ?? "";
  const completedAt = readTime(row.completed_at);
  const run: RunSummary = {
    runId: String(row.run_id),
    command: String(row.command),
    status: String(row.status),
    namespace: String(row.namespace),
    startedAt,
    vmCount: readNumber(row.total_vm_count) ?? readNumber(row.vm_rows) ?? 0,
    workloads: (readText(row.workloads_csv) ?? "").split(",").filter(Boolean),
  };
  if (completedAt !== undefined) {
    run.completedAt = completedAt;
    const seconds = (Date.parse(completedAt) - Date.parse(startedAt)) / 1000;
    if (!Number.isNaN(seconds)) run.durationSeconds = seconds;
  }
  const error = readText(row.error_summary);
  if (error !== undefined) run.errorSummary = error;
  return run;
}

export async function readRuns(db: SqlDriver, limit: number): Promise<RunSummary[]> {
  const rows = await db.query(
    `SELECT ${SUMMARY_COLUMNS} FROM audit_log a ORDER BY a.started_at DESC, a.id DESC LIMIT ?`,
    [Math.max(1, Math.floor(limit))],
  );
  return rows.map(summary);
}

/** Drops undefined fields so JSON output and deepEqual see only what was recorded. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export async function readRun(db: SqlDriver, runIdOrPrefix: string): Promise<RunDetail | undefined> {
  let rows = await db.query(
    `SELECT ${SUMMARY_COLUMNS}, a.settings, a.cluster_context, a.dry_run, a.ssh_auth_configured, a.linked_run_ids,
       a.vms_deleted, a.services_deleted, a.secrets_deleted, a.dvs_deleted, a.pvcs_deleted, a.namespace_deleted
     FROM audit_log a WHERE a.run_id = ?`,
    [runIdOrPrefix],
  );
  if (rows.length === 0 && /^[0-9a-f-]{4,}$/i.test(runIdOrPrefix)) {
    rows = await db.query(
      `SELECT ${SUMMARY_COLUMNS}, a.settings, a.cluster_context, a.dry_run, a.ssh_auth_configured, a.linked_run_ids,
         a.vms_deleted, a.services_deleted, a.secrets_deleted, a.dvs_deleted, a.pvcs_deleted, a.namespace_deleted
       FROM audit_log a WHERE a.run_id LIKE ? LIMIT 2`,
      [`${runIdOrPrefix.toLowerCase()}%`],
    );
    if (rows.length > 1)
      throw new Error(`run id prefix ${runIdOrPrefix} matches several runs; give more of it`);
  }
  const row = rows[0];
  if (!row) return undefined;
  const auditId = Number(row.id);
  const isCleanup = String(row.command).startsWith("cleanup");
  const detail: RunDetail = {
    ...summary(row),
    settings: readJson(row.settings, {}),
    dryRun: Number(row.dry_run) === 1,
    sshAuthConfigured: Number(row.ssh_auth_configured) === 1,
    linkedRunIds: readJson<string[]>(row.linked_run_ids, []),
    workloadRows: [],
    vms: [],
    resources: [],
    events: [],
  };
  const context = readText(row.cluster_context);
  if (context !== undefined) detail.clusterContext = context;
  if (isCleanup && row.vms_deleted !== null && row.vms_deleted !== undefined) {
    detail.deleted = {
      VirtualMachine: Number(row.vms_deleted),
      Service: Number(row.services_deleted ?? 0),
      Secret: Number(row.secrets_deleted ?? 0),
      DataVolume: Number(row.dvs_deleted ?? 0),
      PersistentVolumeClaim: Number(row.pvcs_deleted ?? 0),
      Namespace: Number(row.namespace_deleted ?? 0),
    };
  }

  for (const w of await db.query("SELECT * FROM workload_details WHERE audit_id = ? ORDER BY id", [
    auditId,
  ])) {
    detail.workloadRows.push(
      defined({
        name: String(w.workload_type),
        vmCount: Number(w.vm_count),
        cpuCores: Number(w.cpu_cores),
        memory: String(w.memory),
        hasDataDisk: Number(w.has_data_disk) === 1,
        dataDiskSize: readText(w.data_disk_size),
        requiresService: Number(w.requires_service) === 1,
        status: String(w.status),
      }),
    );
  }
  for (const v of await db.query("SELECT * FROM vm_details WHERE audit_id = ? ORDER BY id", [auditId])) {
    detail.vms.push(
      defined({
        name: String(v.vm_name),
        workload: String(v.component),
        role: readText(v.role),
        phase: readText(v.phase),
        status: String(v.status),
        createdAt: readTime(v.created_at),
        scheduledAt: readTime(v.scheduled_at),
        runningAt: readTime(v.running_at),
        readyAt: readTime(v.ready_at),
        deletedAt: readTime(v.deleted_at),
        error: readText(v.error_detail),
      }),
    );
  }
  for (const r of await db.query("SELECT * FROM resource_details WHERE audit_id = ? ORDER BY id", [
    auditId,
  ])) {
    detail.resources.push(
      defined({
        kind: String(r.resource_type),
        name: String(r.resource_name),
        namespace: String(r.namespace),
        status: String(r.status),
        createdAt: readTime(r.created_at),
        deletedAt: readTime(r.deleted_at),
      }),
    );
  }
  const events = await db.query(
    `SELECT e.event_type, e.occurred_at, e.message, e.error_detail, e.details, v.vm_name, w.workload_type
     FROM events e LEFT JOIN vm_details v ON v.id = e.vm_id LEFT JOIN workload_details w ON w.id = e.workload_id
     WHERE e.audit_id = ? ORDER BY e.id`,
    [auditId],
  );
  for (const e of events) {
    const details = readJson<Record<string, unknown> | undefined>(e.details, undefined);
    detail.events.push(
      defined({
        type: String(e.event_type),
        occurredAt: readTime(e.occurred_at) ?? "",
        message: readText(e.message),
        error: readText(e.error_detail),
        vm: readText(e.vm_name),
        workload: readText(e.workload_type),
        details,
      }),
    );
  }
  return detail;
}
