/**
 * The audit trail: what virtwork created, when, with which settings, and what happened.
 *
 * How the run/cleanup orchestration uses it (every method is keyed by the run id, which
 * exists with or without audit; open once per process, close at the end):
 *
 *   const auditor = guardAuditor(await openAuditor({ enabled: config.audit, target: config.auditDb, env }), logger);
 *   await auditor.startRun(describeRun(config, { runId, command: "run", plan, clusterContext }));
 *     // audit_log row (status in_progress, settings without secrets), workload rows and VM
 *     // rows with status "planned", and the events execution_started + planned, in one transaction
 *   await auditor.recordResource(runId, { kind: "Namespace", name, namespace, status: "created" | "skipped" });
 *   await auditor.recordResource(runId, { kind: "Secret" | "Service" | "VirtualMachine" | "DataVolume", … });
 *     // a resource_details row + an object_created / object_skipped / object_failed event;
 *     // for a VirtualMachine also vm_details.status = created (or failed) and created_at
 *   await auditor.recordEvent(runId, { type: "retry", message, details: { attempt, delayMs } });
 *   await auditor.updateVm(runId, vmName, { phase: "Scheduled", scheduledAt });
 *   await auditor.updateVm(runId, vmName, { phase: "Running", status: "ready", runningAt, readyAt });
 *     // a change to status ready / failed also writes vm_running / vm_failed with timings
 *   await auditor.updateWorkload(runId, "cpu", "created" | "failed");
 *   await auditor.completeRun(runId, "success" | "failed" | "cancelled" | "aborted", errorSummary?);
 *     // final status, completed_at, error_summary, and an execution_completed (or interrupted) event
 *   await auditor.close();
 *
 * Cleanup: startRun(describeRun(config, { runId, command: "cleanup", cleanupMode })), then
 * recordCleanup(runId, { deleted, namespaceDeleted }) once the objects are gone: it links the
 * run ids found on the deleted objects, marks their vm_details/resource_details rows deleted,
 * writes the per-kind counts and a cleanup_deleted event; then completeRun.
 *
 * Failure policy: an audit write never fails a run. The SQLite and PostgreSQL auditors reject
 * on errors; wrap them with guardAuditor(), which logs each failure as a warning and
 * resolves. completeRun takes no AbortSignal, so it still works inside a SIGINT handler.
 * Timestamps are Dates or ISO strings (default: now), stored in UTC with millisecond precision.
 * Calls may be fire-and-forget: one auditor applies them in call order, and close() waits
 * for the pending ones.
 */

/** A point in time: a Date or an ISO 8601 string (as the Kubernetes API reports them). */
export type Timestamp = Date | string;

export type AuditCommand = "run" | "dry-run" | "cleanup" | "cleanup --dry-run";
export type RunStatus = "in_progress" | "success" | "failed" | "cancelled" | "aborted";
export type FinalStatus = Exclude<RunStatus, "in_progress">;
export type WorkloadStatus = "planned" | "created" | "ready" | "failed";
export type VmStatus = "planned" | "created" | "ready" | "failed" | "deleted";
export type ResourceStatus = "created" | "skipped" | "failed" | "deleted";

/** The event types virtwork writes; others are accepted and stored as given. */
export type EventType =
  | "execution_started"
  | "planned"
  | "namespace_ensured"
  | "object_created"
  | "object_skipped"
  | "object_failed"
  | "retry"
  | "vm_running"
  | "vm_failed"
  | "workload_skipped"
  | "interrupted"
  | "execution_completed"
  | "cleanup_started"
  | "cleanup_deleted"
  | "cleanup_completed"
  | (string & {});

export interface WorkloadRecord {
  name: string;
  vmCount: number;
  cpuCores: number;
  memory: string;
  hasDataDisk: boolean;
  /** Only when the workload has data disks. */
  dataDiskSize?: string;
  requiresService: boolean;
}

export interface VmRecord {
  name: string;
  workload: string;
  role?: string;
  cpuCores: number;
  memory: string;
  containerDiskImage: string;
  hasDataDisk: boolean;
  dataDiskSize?: string;
}

/** The audit_log row of a run or cleanup; build it with describeRun(). */
export interface RunStart {
  runId: string;
  command: AuditCommand;
  namespace: string;
  /** Every setting of the run, without secrets (see describeRun). */
  settings: Record<string, unknown>;
  kubeconfigPath?: string;
  clusterContext?: string;
  containerDiskImage?: string;
  defaultCpuCores?: number;
  defaultMemory?: string;
  dataDiskSize?: string;
  dryRun: boolean;
  sshAuthConfigured: boolean;
  cleanupMode?: string;
  waitForReady: boolean;
  readyTimeoutSeconds?: number;
  /** The deployed workloads (workloads_csv, total_workload_count); empty for cleanup. */
  workloads: WorkloadRecord[];
  /** The planned VMs (total_vm_count); empty for cleanup. */
  vms: VmRecord[];
  startedAt?: Timestamp;
}

export interface ResourceRecord {
  /** Kubernetes kind: Namespace, Service, Secret, VirtualMachine, DataVolume, PersistentVolumeClaim. */
  kind: string;
  name: string;
  namespace: string;
  /** created; skipped = it already existed (AlreadyExists); failed = the create failed. */
  status: Exclude<ResourceStatus, "deleted">;
  /** skipped: the run id (virtwork/run-id label) of the run that owns the existing object. */
  ownerRunId?: string;
  error?: string;
  at?: Timestamp;
}

export interface VmUpdate {
  /** The VMI phase as last seen: Pending, Scheduling, Scheduled, Running, Failed, … */
  phase?: string;
  status?: VmStatus;
  createdAt?: Timestamp;
  scheduledAt?: Timestamp;
  runningAt?: Timestamp;
  readyAt?: Timestamp;
  error?: string;
}

export interface AuditEvent {
  type: EventType;
  message?: string;
  error?: string;
  /** Links the event to a VM / workload row of this run (vm_id / workload_id). */
  vm?: string;
  workload?: string;
  /** Structured facts (timings, attempt numbers, counts), stored as JSON. */
  details?: Record<string, unknown>;
  at?: Timestamp;
}

export interface DeletedObject {
  kind: string;
  name: string;
  namespace: string;
  /** The object's virtwork/run-id label. */
  runId?: string;
}

export interface CleanupRecord {
  deleted: DeletedObject[];
  namespaceDeleted: boolean;
  at?: Timestamp;
}

export interface RunSummary {
  runId: string;
  command: string;
  status: string;
  namespace: string;
  startedAt: string;
  completedAt?: string;
  durationSeconds?: number;
  vmCount: number;
  workloads: string[];
  errorSummary?: string;
}

export interface RunDetail extends RunSummary {
  settings: Record<string, unknown>;
  clusterContext?: string;
  dryRun: boolean;
  sshAuthConfigured: boolean;
  linkedRunIds: string[];
  deleted?: Record<string, number>;
  workloadRows: {
    name: string;
    vmCount: number;
    cpuCores: number;
    memory: string;
    hasDataDisk: boolean;
    dataDiskSize?: string;
    requiresService: boolean;
    status: string;
  }[];
  vms: {
    name: string;
    workload: string;
    role?: string;
    phase?: string;
    status: string;
    createdAt?: string;
    scheduledAt?: string;
    runningAt?: string;
    readyAt?: string;
    deletedAt?: string;
    error?: string;
  }[];
  resources: {
    kind: string;
    name: string;
    namespace: string;
    status: string;
    createdAt?: string;
    deletedAt?: string;
  }[];
  events: {
    type: string;
    occurredAt: string;
    message?: string;
    error?: string;
    vm?: string;
    workload?: string;
    details?: Record<string, unknown>;
  }[];
}

export interface Auditor {
  /** "sqlite", "postgres" or "none" (--no-audit). */
  readonly backend: "sqlite" | "postgres" | "none";
  /** Where the records go, with any password removed (for logs). */
  readonly location: string;
  startRun(start: RunStart): Promise<void>;
  recordResource(runId: string, resource: ResourceRecord): Promise<void>;
  updateVm(runId: string, vmName: string, update: VmUpdate): Promise<void>;
  updateWorkload(runId: string, workload: string, status: WorkloadStatus): Promise<void>;
  recordEvent(runId: string, event: AuditEvent): Promise<void>;
  recordCleanup(runId: string, cleanup: CleanupRecord): Promise<void>;
  completeRun(runId: string, status: FinalStatus, errorSummary?: string, at?: Timestamp): Promise<void>;
  /** Most recent first. */
  listRuns(options?: { limit?: number }): Promise<RunSummary[]>;
  /** By full run id or a unique prefix of one; undefined when unknown. */
  getRun(runIdOrPrefix: string): Promise<RunDetail | undefined>;
  close(): Promise<void>;
}

/** --no-audit: every method succeeds and records nothing. The run id is the caller's. */
export class NoopAuditor implements Auditor {
  readonly backend = "none";
  readonly location = "(audit disabled)";
  async startRun(_start: RunStart): Promise<void> {}
  async recordResource(_runId: string, _resource: ResourceRecord): Promise<void> {}
  async updateVm(_runId: string, _vmName: string, _update: VmUpdate): Promise<void> {}
  async updateWorkload(_runId: string, _workload: string, _status: WorkloadStatus): Promise<void> {}
  async recordEvent(_runId: string, _event: AuditEvent): Promise<void> {}
  async recordCleanup(_runId: string, _cleanup: CleanupRecord): Promise<void> {}
  async completeRun(
    _runId: string,
    _status: FinalStatus,
    _errorSummary?: string,
    _at?: Timestamp,
  ): Promise<void> {}
  async listRuns(_options?: { limit?: number }): Promise<RunSummary[]> {
    return [];
  }
  async getRun(_runIdOrPrefix: string): Promise<RunDetail | undefined> {
    return undefined;
  }
  async close(): Promise<void> {}
}
