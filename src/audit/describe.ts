import type { Config } from "../config/load.ts";
import { LABEL_COMPONENT, managedSelector } from "../manifests/labels.ts";
import type { Plan } from "../plan/plan.ts";
import type { AuditCommand, RunStart, VmRecord, WorkloadRecord } from "./auditor.ts";

export interface DescribeOptions {
  runId: string;
  command: AuditCommand;
  /** The run's plan; omit for cleanup. */
  plan?: Plan;
  /** The kubeconfig context actually used (after defaulting); omit in client dry-run. */
  clusterContext?: string;
  /** Cleanup: "all" or "run-id" (whatever the cleanup command calls its modes). */
  cleanupMode?: string;
  startedAt?: Date;
}

const SECRET_PARAM = /pass|secret|token|credential|private/i;
const SECRET_SOURCE = /^ssh/i;

/**
 * The audit_log row of a run or cleanup, with its workload and VM rows from the plan.
 * Credentials never leave here: SSH settings become `sshAuthConfigured`, params whose
 * name looks secret are masked, and the audit database URL (which may hold a password)
 * is not recorded at all.
 */
export function describeRun(config: Config, options: DescribeOptions): RunStart {
  const { plan } = options;
  const sshAuthConfigured = Boolean(config.ssh?.passwordHash || config.ssh?.authorizedKeys.length);
  const workloads = plan ? workloadRecords(config, plan) : [];
  const vms = plan ? vmRecords(config, plan) : [];
  const sources = Object.fromEntries(
    Object.entries(config.sources).filter(([name]) => !SECRET_SOURCE.test(name) && name !== "auditDb"),
  );
  const settings: Record<string, unknown> = {
    namespace: config.namespace,
    kubeconfig: config.kubeconfig,
    context: config.context,
    configFile: config.configFile,
    workloads: config.workloads.map((w) => ({
      name: w.name,
      vmCount: w.vmCount,
      cpuCores: w.cpuCores,
      memory: w.memory.text,
      params: Object.fromEntries(
        Object.entries(w.params).map(([k, v]) => [k, SECRET_PARAM.test(k) && v !== "" ? "<redacted>" : v]),
      ),
    })),
    diskSize: config.diskSize.text,
    containerDiskImage: config.containerDiskImage,
    storageClass: config.storageClass,
    dryRun: config.dryRun,
    wait: config.wait,
    timeoutSeconds: config.timeoutSeconds,
    vmConcurrency: config.vmConcurrency,
    sshAuthConfigured,
    sources,
  };
  const start: RunStart = {
    runId: options.runId,
    command: options.command,
    namespace: config.namespace,
    settings: JSON.parse(JSON.stringify(settings)) as Record<string, unknown>,
    containerDiskImage: config.containerDiskImage,
    defaultCpuCores: mostCommon(config.workloads.map((w) => w.cpuCores)),
    defaultMemory: mostCommon(config.workloads.map((w) => w.memory.text)),
    dataDiskSize: config.diskSize.text,
    dryRun: options.command === "dry-run" || options.command === "cleanup --dry-run",
    sshAuthConfigured,
    waitForReady: config.wait,
    readyTimeoutSeconds: config.timeoutSeconds,
    workloads,
    vms,
  };
  if (config.kubeconfig !== undefined) start.kubeconfigPath = config.kubeconfig;
  const context = options.clusterContext ?? config.context;
  if (context !== undefined) start.clusterContext = context;
  if (options.cleanupMode !== undefined) start.cleanupMode = options.cleanupMode;
  if (options.startedAt !== undefined) start.startedAt = options.startedAt;
  return start;
}

/** The most common value (the run's default when most workloads keep it). */
function mostCommon<T>(values: T[]): T | undefined {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: T | undefined;
  for (const [v, n] of counts) if (best === undefined || n > (counts.get(best) ?? 0)) best = v;
  return best;
}

function workloadRecords(config: Config, plan: Plan): WorkloadRecord[] {
  const withService = new Set(
    plan.objects.filter((o) => o.kind === "Service").map((o) => o.metadata?.labels?.[LABEL_COMPONENT]),
  );
  return plan.workloads.map((w) => {
    const selected = config.workloads.find((s) => s.name === w.name);
    const hasDataDisk = plan.vms.some((vm) => vm.workload === w.name && vm.dataVolumes.length > 0);
    const record: WorkloadRecord = {
      name: w.name,
      vmCount: w.vms,
      cpuCores: selected?.cpuCores ?? 0,
      memory: selected?.memory.text ?? "",
      hasDataDisk,
      requiresService: withService.has(w.name),
    };
    if (hasDataDisk) record.dataDiskSize = config.diskSize.text;
    return record;
  });
}

function vmRecords(config: Config, plan: Plan): VmRecord[] {
  return plan.vms.map((vm) => {
    const selected = config.workloads.find((s) => s.name === vm.workload);
    const record: VmRecord = {
      name: vm.name,
      workload: vm.workload,
      cpuCores: selected?.cpuCores ?? 0,
      memory: selected?.memory.text ?? "",
      containerDiskImage: config.containerDiskImage,
      hasDataDisk: vm.dataVolumes.length > 0,
    };
    if (vm.role !== undefined) record.role = vm.role;
    if (vm.dataVolumes.length > 0) record.dataDiskSize = config.diskSize.text;
    return record;
  });
}

/**
 * The audit_log row of a cleanup: what it was asked to remove (namespace, run id, wait,
 * --delete-namespace) and where — not a run's workload defaults, which a cleanup has none of.
 * What it deleted is recorded later by recordCleanup (counts per kind, linked run ids).
 */
export function describeCleanup(
  config: Config,
  options: {
    runId: string;
    cleanupMode: string;
    clusterContext?: string;
    options: { runId?: string; wait: boolean; deleteNamespace: boolean };
  },
): RunStart {
  const start: RunStart = {
    runId: options.runId,
    command: "cleanup",
    namespace: config.namespace,
    settings: JSON.parse(
      JSON.stringify({
        namespace: config.namespace,
        kubeconfig: config.kubeconfig,
        context: config.context,
        runId: options.options.runId,
        selector: managedSelector(options.options.runId),
        wait: options.options.wait,
        timeoutSeconds: config.timeoutSeconds,
        deleteNamespace: options.options.deleteNamespace,
      }),
    ) as Record<string, unknown>,
    dryRun: false,
    sshAuthConfigured: false,
    cleanupMode: options.cleanupMode,
    waitForReady: options.options.wait,
    readyTimeoutSeconds: config.timeoutSeconds,
    workloads: [],
    vms: [],
  };
  if (config.kubeconfig !== undefined) start.kubeconfigPath = config.kubeconfig;
  const context = options.clusterContext ?? config.context;
  if (context !== undefined) start.clusterContext = context;
  return start;
}
