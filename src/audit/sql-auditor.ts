import type {
  AuditEvent,
  Auditor,
  CleanupRecord,
  FinalStatus,
  ResourceRecord,
  RunStart,
  Timestamp,
  VmUpdate,
  WorkloadStatus,
} from "./auditor.ts";
import { readRun, readRuns } from "./queries.ts";
import { flag, isoTime, optionalIso, readNumber, readTime, type SqlDriver, type SqlValue } from "./sql.ts";

/** Counts written by a cleanup, by Kubernetes kind → audit_log column. */
const DELETED_COLUMNS: Record<string, string> = {
  VirtualMachine: "vms_deleted",
  Service: "services_deleted",
  Secret: "secrets_deleted",
  DataVolume: "dvs_deleted",
  PersistentVolumeClaim: "pvcs_deleted",
};

/**
 * The Auditor over SQL, for both SQLite and PostgreSQL. Calls are queued and applied one
 * at a time, in call order, each as one transaction, so fire-and-forget callers keep their
 * timeline and a crash never leaves half a record.
 */
export class SqlAuditor implements Auditor {
  readonly backend: "sqlite" | "postgres";
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  readonly location: string;
  private readonly db: SqlDriver;

  constructor(db: SqlDriver, location: string) {
    this.db = db;
    this.location = location;
    this.backend = db.dialect;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error("audit database is closed"));
    const result = this.queue.then(fn);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private write<T>(fn: () => Promise<T>): Promise<T> {
    return this.serial(() => this.db.transaction(fn));
  }

  private async auditId(runId: string): Promise<number> {
    const rows = await this.db.query("SELECT id FROM audit_log WHERE run_id = ?", [runId]);
    const id = readNumber(rows[0]?.id);
    if (id === undefined) throw new Error(`no audit record of run ${runId} (startRun was not called)`);
    return id;
  }

  private async insertId(sql: string, params: SqlValue[]): Promise<number> {
    const rows = await this.db.query(`${sql} RETURNING id`, params);
    return Number(rows[0]?.id);
  }

  private async event(auditId: number, e: AuditEvent, ids: { vm?: number; workload?: number } = {}) {
    let vmId = ids.vm ?? null;
    let workloadId = ids.workload ?? null;
    if (vmId === null && e.vm !== undefined) {
      const rows = await this.db.query(
        "SELECT id, workload_id FROM vm_details WHERE audit_id = ? AND vm_name = ?",
        [auditId, e.vm],
      );
      vmId = readNumber(rows[0]?.id) ?? null;
      workloadId ??= readNumber(rows[0]?.workload_id) ?? null;
    }
    if (workloadId === null && e.workload !== undefined) {
      const rows = await this.db.query(
        "SELECT id FROM workload_details WHERE audit_id = ? AND workload_type = ?",
        [auditId, e.workload],
      );
      workloadId = readNumber(rows[0]?.id) ?? null;
    }
    await this.db.query(
      "INSERT INTO events (audit_id, vm_id, workload_id, event_type, message, error_detail, occurred_at, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      [
        auditId,
        vmId,
        workloadId,
        e.type,
        e.message ?? null,
        e.error ?? null,
        isoTime(e.at),
        e.details ? JSON.stringify(e.details) : null,
      ],
    );
  }

  startRun(s: RunStart): Promise<void> {
    return this.write(async () => {
      const startedAt = isoTime(s.startedAt);
      const auditId = await this.insertId(
        `INSERT INTO audit_log (run_id, command, status, kubeconfig_path, cluster_context, namespace,
          container_disk_image, default_cpu_cores, default_memory, data_disk_size, workloads_csv,
          total_vm_count, total_workload_count, dry_run, ssh_auth_configured, cleanup_mode, wait_for_ready,
          ready_timeout_seconds, started_at, settings)
         VALUES (?, ?, 'in_progress', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          s.runId,
          s.command,
          s.kubeconfigPath ?? null,
          s.clusterContext ?? null,
          s.namespace,
          s.containerDiskImage ?? null,
          s.defaultCpuCores ?? null,
          s.defaultMemory ?? null,
          s.dataDiskSize ?? null,
          s.workloads.map((w) => w.name).join(","),
          s.vms.length,
          s.workloads.length,
          flag(s.dryRun),
          flag(s.sshAuthConfigured),
          s.cleanupMode ?? null,
          flag(s.waitForReady),
          s.readyTimeoutSeconds ?? null,
          startedAt,
          JSON.stringify(s.settings),
        ],
      );
      const workloadIds = new Map<string, number>();
      for (const w of s.workloads) {
        const id = await this.insertId(
          `INSERT INTO workload_details (audit_id, workload_type, enabled, vm_count, cpu_cores, memory,
            has_data_disk, data_disk_size, requires_service, status) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, 'planned')`,
          [
            auditId,
            w.name,
            w.vmCount,
            w.cpuCores,
            w.memory,
            flag(w.hasDataDisk),
            w.dataDiskSize ?? null,
            flag(w.requiresService),
          ],
        );
        workloadIds.set(w.name, id);
      }
      for (const vm of s.vms) {
        await this.db.query(
          `INSERT INTO vm_details (audit_id, workload_id, vm_name, namespace, component, role, cpu_cores, memory,
            container_disk_image, has_data_disk, data_disk_size, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'planned')`,
          [
            auditId,
            workloadIds.get(vm.workload) ?? null,
            vm.name,
            s.namespace,
            vm.workload,
            vm.role ?? null,
            vm.cpuCores,
            vm.memory,
            vm.containerDiskImage,
            flag(vm.hasDataDisk),
            vm.dataDiskSize ?? null,
          ],
        );
      }
      const isCleanup = s.command.startsWith("cleanup");
      await this.event(auditId, {
        type: isCleanup ? "cleanup_started" : "execution_started",
        message: `${s.command} started in namespace ${s.namespace}`,
        at: startedAt,
      });
      if (!isCleanup) {
        await this.event(auditId, {
          type: "planned",
          message: `planned ${s.vms.length} VMs of ${s.workloads.length} workloads: ${s.workloads.map((w) => w.name).join(", ")}`,
          details: { workloads: s.workloads.map((w) => w.name), vms: s.vms.length },
          at: startedAt,
        });
      }
    });
  }

  recordResource(runId: string, r: ResourceRecord): Promise<void> {
    return this.write(async () => {
      const auditId = await this.auditId(runId);
      const at = isoTime(r.at);
      await this.db.query(
        `INSERT INTO resource_details (audit_id, resource_type, resource_name, namespace, status, created_at, error_detail)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [auditId, r.kind, r.name, r.namespace, r.status, r.status === "failed" ? null : at, r.error ?? null],
      );
      const ids: { vm?: number; workload?: number } = {};
      if (r.kind === "VirtualMachine") {
        const rows = await this.db.query(
          `UPDATE vm_details SET status = ?, created_at = COALESCE(created_at, ?), error_detail = COALESCE(?, error_detail)
           WHERE audit_id = ? AND vm_name = ? RETURNING id, workload_id`,
          [
            r.status === "failed" ? "failed" : "created",
            r.status === "failed" ? null : at,
            r.error ?? null,
            auditId,
            r.name,
          ],
        );
        const vm = readNumber(rows[0]?.id);
        const workload = readNumber(rows[0]?.workload_id);
        if (vm !== undefined) ids.vm = vm;
        if (workload !== undefined) ids.workload = workload;
      }
      const verb = { created: "created", skipped: "already existed", failed: "could not be created" }[
        r.status
      ];
      const event: AuditEvent = {
        type: r.kind === "Namespace" ? "namespace_ensured" : `object_${r.status}`,
        message: `${r.kind} ${r.namespace === r.name ? r.name : `${r.namespace}/${r.name}`} ${verb}${r.ownerRunId ? ` (owned by run ${r.ownerRunId})` : ""}`,
        details: {
          kind: r.kind,
          name: r.name,
          status: r.status,
          ...(r.ownerRunId ? { ownerRunId: r.ownerRunId } : {}),
        },
        at,
      };
      if (r.error !== undefined) event.error = r.error;
      await this.event(auditId, event, ids);
    });
  }

  updateVm(runId: string, vmName: string, u: VmUpdate): Promise<void> {
    return this.write(async () => {
      const auditId = await this.auditId(runId);
      const rows = await this.db.query(
        "SELECT id, workload_id, status, created_at, scheduled_at, running_at FROM vm_details WHERE audit_id = ? AND vm_name = ?",
        [auditId, vmName],
      );
      const row = rows[0];
      if (!row) throw new Error(`no VM ${vmName} in the audit record of run ${runId}`);
      const readyAt = u.status === "ready" ? (u.readyAt ?? u.runningAt ?? new Date()) : u.readyAt;
      await this.db.query(
        // Status and phase follow the latest report; each timestamp keeps its first observation.
        `UPDATE vm_details SET phase = COALESCE(?, phase), status = COALESCE(?, status),
           created_at = COALESCE(created_at, ?), scheduled_at = COALESCE(scheduled_at, ?),
           running_at = COALESCE(running_at, ?), ready_at = COALESCE(ready_at, ?),
           error_detail = COALESCE(?, error_detail)
         WHERE id = ?`,
        [
          u.phase ?? null,
          u.status ?? null,
          optionalIso(u.createdAt),
          optionalIso(u.scheduledAt),
          optionalIso(u.runningAt),
          optionalIso(readyAt),
          u.error ?? null,
          Number(row.id),
        ],
      );
      if ((u.status !== "ready" && u.status !== "failed") || u.status === row.status) return;
      const created = u.createdAt ?? readTime(row.created_at);
      const scheduled = u.scheduledAt ?? readTime(row.scheduled_at);
      const running = u.runningAt ?? readTime(row.running_at) ?? (u.status === "ready" ? readyAt : undefined);
      const end = u.status === "ready" ? running : new Date();
      const timings = {
        createdToScheduledMs: span(created, scheduled),
        scheduledToRunningMs: span(scheduled, u.status === "ready" ? running : undefined),
        createdToRunningMs: u.status === "ready" ? span(created, running) : undefined,
        createdToFailedMs: u.status === "failed" ? span(created, end) : undefined,
      };
      const total = u.status === "ready" ? timings.createdToRunningMs : timings.createdToFailedMs;
      const after = total === undefined ? "" : ` after ${(total / 1000).toFixed(1)}s`;
      const event: AuditEvent = {
        type: u.status === "ready" ? "vm_running" : "vm_failed",
        message:
          u.status === "ready"
            ? `VM ${vmName} is running${after}`
            : `VM ${vmName} failed${u.phase ? ` in phase ${u.phase}` : ""}${after}`,
        details: { phase: u.phase, ...timings },
        at: u.status === "ready" ? readyAt : undefined,
      };
      if (u.error !== undefined) event.error = u.error;
      await this.event(auditId, event, {
        vm: Number(row.id),
        ...(row.workload_id == null ? {} : { workload: Number(row.workload_id) }),
      });
    });
  }

  updateWorkload(runId: string, workload: string, status: WorkloadStatus): Promise<void> {
    return this.write(async () => {
      const auditId = await this.auditId(runId);
      await this.db.query("UPDATE workload_details SET status = ? WHERE audit_id = ? AND workload_type = ?", [
        status,
        auditId,
        workload,
      ]);
    });
  }

  recordEvent(runId: string, event: AuditEvent): Promise<void> {
    return this.write(async () => this.event(await this.auditId(runId), event));
  }

  recordCleanup(runId: string, c: CleanupRecord): Promise<void> {
    return this.write(async () => {
      const auditId = await this.auditId(runId);
      const at = isoTime(c.at);
      const linked = [...new Set(c.deleted.flatMap((o) => (o.runId ? [o.runId] : [])))].sort();
      const counts: Record<string, number> = {};
      for (const kind of Object.keys(DELETED_COLUMNS)) counts[kind] = 0;
      for (const o of c.deleted) counts[o.kind] = (counts[o.kind] ?? 0) + 1;
      const columns = Object.entries(DELETED_COLUMNS);
      await this.db.query(
        `UPDATE audit_log SET linked_run_ids = ?, ${columns.map(([, col]) => `${col} = ?`).join(", ")},
           namespace_deleted = ? WHERE id = ?`,
        [
          JSON.stringify(linked),
          ...columns.map(([kind]) => counts[kind] ?? 0),
          flag(c.namespaceDeleted),
          auditId,
        ],
      );
      const runsOf = "audit_id IN (SELECT id FROM audit_log WHERE run_id = ?)";
      for (const o of c.deleted) {
        if (!o.runId) continue;
        if (o.kind === "VirtualMachine") {
          await this.db.query(
            `UPDATE vm_details SET status = 'deleted', deleted_at = ? WHERE vm_name = ? AND namespace = ? AND ${runsOf}`,
            [at, o.name, o.namespace, o.runId],
          );
        }
        await this.db.query(
          `UPDATE resource_details SET status = 'deleted', deleted_at = ?
           WHERE resource_type = ? AND resource_name = ? AND namespace = ? AND ${runsOf}`,
          [at, o.kind, o.name, o.namespace, o.runId],
        );
      }
      if (c.namespaceDeleted) {
        const namespaces = [...new Set(c.deleted.map((o) => o.namespace))];
        for (const id of linked) {
          for (const ns of namespaces) {
            await this.db.query(
              `UPDATE resource_details SET status = 'deleted', deleted_at = ?
               WHERE resource_type = 'Namespace' AND resource_name = ? AND ${runsOf}`,
              [at, ns, id],
            );
          }
        }
      }
      const summary = Object.entries(counts)
        .filter(([, n]) => n > 0)
        .map(([kind, n]) => `${n} ${kind}`)
        .join(", ");
      await this.event(auditId, {
        type: "cleanup_deleted",
        message: `deleted ${summary || "nothing"}${c.namespaceDeleted ? " and the namespace" : ""}${linked.length ? ` of runs ${linked.join(", ")}` : ""}`,
        details: { runIds: linked, counts, namespaceDeleted: c.namespaceDeleted },
        at,
      });
    });
  }

  /** Works at any time, a signal handler included: it needs nothing but the queue. */
  completeRun(runId: string, status: FinalStatus, errorSummary?: string, at?: Timestamp): Promise<void> {
    return this.write(async () => {
      const completedAt = isoTime(at);
      const rows = await this.db.query(
        "UPDATE audit_log SET status = ?, completed_at = ?, error_summary = ? WHERE run_id = ? RETURNING id, started_at, command",
        [status, completedAt, errorSummary ?? null, runId],
      );
      const row = rows[0];
      if (!row) throw new Error(`no audit record of run ${runId} (startRun was not called)`);
      const auditId = Number(row.id);
      const durationMs = span(readTime(row.started_at), completedAt);
      if (status === "cancelled") {
        await this.event(auditId, {
          type: "interrupted",
          message: errorSummary ?? "interrupted by signal",
          at: completedAt,
        });
      }
      const event: AuditEvent = {
        type: String(row.command).startsWith("cleanup") ? "cleanup_completed" : "execution_completed",
        message: `${row.command} ${status}${durationMs === undefined ? "" : ` after ${(durationMs / 1000).toFixed(1)}s`}`,
        details: { status, durationMs },
        at: completedAt,
      };
      if (errorSummary !== undefined) event.error = errorSummary;
      await this.event(auditId, event);
    });
  }

  listRuns(options: { limit?: number } = {}) {
    return this.serial(() => readRuns(this.db, options.limit ?? 20));
  }

  getRun(runIdOrPrefix: string) {
    return this.serial(() => readRun(this.db, runIdOrPrefix));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.db.close();
  }
}

function span(from: Timestamp | undefined, to: Timestamp | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined;
  const ms = new Date(to).getTime() - new Date(from).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}
