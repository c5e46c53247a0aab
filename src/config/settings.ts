import { GUEST_OS_NAMES, type GuestOsName } from "../workloads/guest.ts";
import {
  asBool,
  asDirectory,
  asDnsLabel,
  asDnsSubdomain,
  asImage,
  asInt,
  asLinuxUser,
  asList,
  asMemory,
  asNonEmptyString,
  asPublicKeys,
  asQuantity,
  asSeconds,
  asString,
  oneOf,
  ValueProblem,
} from "./values.ts";

export type DryRunMode = "none" | "client" | "server";
export type OutputFormat = "yaml" | "json";

/**
 * One global setting and every way to give it. The config-file key is canonical with
 * hyphens; `snake_case` spellings are accepted too (design §4.3). Each setting resolves
 * as flag > VIRTWORK_* env > config file > default.
 */
export interface SettingDef<T> {
  key: string;
  /** Long flag without dashes, when there is one. */
  flag?: string;
  env: string;
  /** Other config-file keys that mean the same (already hyphenated). */
  aliases?: string[];
  parse: (raw: unknown) => T;
  default?: T;
  description: string;
}

function setting<T>(def: SettingDef<T>): SettingDef<T> {
  return def;
}

function asDryRun(raw: unknown): DryRunMode {
  if (raw === true) return "client";
  if (raw === false) return "none";
  const text = asString(raw).toLowerCase();
  if (text === "true" || text === "") return "client";
  if (text === "false") return "none";
  if (text === "none" || text === "client" || text === "server") return text;
  throw new ValueProblem(`must be none, client or server, got "${asString(raw)}"`);
}

export const SETTINGS = {
  namespace: setting({
    key: "namespace",
    flag: "namespace",
    env: "VIRTWORK_NAMESPACE",
    parse: asDnsLabel,
    default: "virtwork",
    description: "Namespace for every object of the run",
  }),
  kubeconfig: setting({
    key: "kubeconfig",
    flag: "kubeconfig",
    env: "VIRTWORK_KUBECONFIG",
    parse: asNonEmptyString,
    description: "Path to the kubeconfig file (else KUBECONFIG, ~/.kube/config, in-cluster)",
  }),
  context: setting({
    key: "context",
    flag: "context",
    env: "VIRTWORK_CONTEXT",
    parse: asNonEmptyString,
    description: "kubeconfig context to use",
  }),
  verbose: setting({
    key: "verbose",
    flag: "verbose",
    env: "VIRTWORK_VERBOSE",
    parse: asBool,
    default: false,
    description: "Debug logging on stderr",
  }),
  audit: setting({
    key: "audit",
    flag: "audit",
    env: "VIRTWORK_AUDIT",
    parse: asBool,
    default: true,
    description: "Record runs in the audit database",
  }),
  auditDb: setting({
    key: "audit-db",
    flag: "audit-db",
    env: "VIRTWORK_AUDIT_DB",
    parse: asNonEmptyString,
    description: "Audit database: a SQLite file path or a postgres:// URL",
  }),
  workloads: setting({
    key: "workloads",
    flag: "workloads",
    env: "VIRTWORK_WORKLOADS",
    parse: asList,
    description: "Workloads to run (comma-separated; 'all' adds the opt-in chaos workloads)",
  }),
  vmCount: setting({
    key: "vm-count",
    flag: "vm-count",
    env: "VIRTWORK_VM_COUNT",
    parse: asInt(1, 10000),
    default: 1,
    description: "VMs per workload (per role for server/client workloads)",
  }),
  cpuCores: setting({
    key: "cpu-cores",
    flag: "cpu-cores",
    env: "VIRTWORK_CPU_CORES",
    parse: asInt(1, 1024),
    default: 2,
    description: "vCPU cores per VM",
  }),
  memory: setting({
    key: "memory",
    flag: "memory",
    env: "VIRTWORK_MEMORY",
    parse: asMemory,
    default: "2Gi",
    description: "Memory per VM (Kubernetes quantity)",
  }),
  diskSize: setting({
    key: "disk-size",
    flag: "disk-size",
    env: "VIRTWORK_DISK_SIZE",
    aliases: ["data-disk-size"],
    parse: asQuantity,
    default: "10Gi",
    description: "Size of each data disk (disk, database, chaos-disk)",
  }),
  containerDiskImage: setting({
    key: "container-disk-image",
    flag: "container-disk-image",
    env: "VIRTWORK_CONTAINER_DISK_IMAGE",
    parse: asImage,
    default: "quay.io/containerdisks/fedora:42",
    description: "Boot disk image of every VM",
  }),
  guestOs: setting<GuestOsName>({
    key: "guest-os",
    flag: "guest-os",
    env: "VIRTWORK_GUEST_OS",
    parse: oneOf(...GUEST_OS_NAMES),
    // No default here: when not given, the container disk image implies it, else fedora.
    description: `Guest OS family of the image: ${GUEST_OS_NAMES.join(", ")} (default: implied by a quay.io/containerdisks image, else fedora)`,
  }),
  storageClass: setting({
    key: "storage-class",
    flag: "storage-class",
    env: "VIRTWORK_STORAGE_CLASS",
    parse: asDnsSubdomain,
    description: "StorageClass of the data disks (default: the cluster's default)",
  }),
  dryRun: setting<DryRunMode>({
    key: "dry-run",
    flag: "dry-run",
    env: "VIRTWORK_DRY_RUN",
    parse: asDryRun,
    default: "none",
    description: "client: print the objects; server: have the cluster check them; none: deploy",
  }),
  wait: setting({
    key: "wait",
    flag: "wait",
    env: "VIRTWORK_WAIT",
    aliases: ["wait-for-ready"],
    parse: asBool,
    default: true,
    description: "Wait until every VM is running",
  }),
  timeout: setting({
    key: "timeout",
    flag: "timeout",
    env: "VIRTWORK_TIMEOUT",
    parse: asSeconds,
    default: 600,
    description: "How long to wait for the VMs (seconds, or a duration like 10m)",
  }),
  sshUser: setting({
    key: "ssh-user",
    flag: "ssh-user",
    env: "VIRTWORK_SSH_USER",
    parse: asLinuxUser,
    default: "virtwork",
    description: "Guest user created when SSH credentials are given",
  }),
  sshPassword: setting({
    key: "ssh-password",
    flag: "ssh-password",
    env: "VIRTWORK_SSH_PASSWORD",
    parse: asNonEmptyString,
    description: "Password of the guest user (enables SSH password login)",
  }),
  sshAuthorizedKeys: setting({
    key: "ssh-authorized-keys",
    flag: "ssh-key",
    env: "VIRTWORK_SSH_AUTHORIZED_KEYS",
    parse: asPublicKeys,
    description: "SSH public keys of the guest user",
  }),
  sshKeyFiles: setting({
    key: "ssh-key-files",
    flag: "ssh-key-file",
    env: "VIRTWORK_SSH_KEY_FILES",
    aliases: ["ssh-key-file"],
    parse: asList,
    description: "Files holding SSH public keys of the guest user",
  }),
  vmConcurrency: setting({
    key: "vm-concurrency",
    flag: "vm-concurrency",
    env: "VIRTWORK_VM_CONCURRENCY",
    parse: asInt(1, 1000),
    default: 10,
    description: "VMs created in parallel",
  }),
  qps: setting({
    key: "qps",
    flag: "qps",
    env: "VIRTWORK_QPS",
    parse: asInt(1, 10000),
    default: 50,
    description: "Client-side limit of API requests per second",
  }),
  burst: setting({
    key: "burst",
    flag: "burst",
    env: "VIRTWORK_BURST",
    parse: asInt(1, 10000),
    default: 100,
    description: "Requests allowed in a burst above --qps",
  }),
  output: setting<OutputFormat>({
    key: "output",
    flag: "output",
    env: "VIRTWORK_OUTPUT",
    parse: oneOf("yaml", "json"),
    default: "yaml",
    description: "Output format of the printed objects",
  }),
  showSecrets: setting({
    key: "show-secrets",
    flag: "show-secrets",
    env: "VIRTWORK_SHOW_SECRETS",
    parse: asBool,
    default: false,
    description: "Print passwords instead of redacting them",
  }),
  catalogDir: setting({
    key: "catalog-dir",
    flag: "catalog-dir",
    env: "VIRTWORK_CATALOG_DIR",
    parse: asDirectory,
    default: asDirectory("~/.virtwork/catalog"),
    description: "Directory of catalog workloads (one sub-directory per entry)",
  }),
  fromCatalog: setting({
    key: "from-catalog",
    flag: "from-catalog",
    env: "VIRTWORK_FROM_CATALOG",
    parse: asList,
    description: "Catalog entries to run (comma-separated); without --workloads only these run",
  }),
} as const;

export type SettingName = keyof typeof SETTINGS;

/** Per-workload settings (`workloads.<name>.<field>`, `--set <name>.<field>=v`, env). */
export const WORKLOAD_FIELDS = {
  enabled: { parse: asBool },
  "vm-count": { parse: asInt(1, 10000) },
  "cpu-cores": { parse: asInt(1, 1024) },
  memory: { parse: asMemory },
} as const;
export type WorkloadField = keyof typeof WORKLOAD_FIELDS;

/** Env var of a per-workload field, e.g. VIRTWORK_WORKLOAD_CHAOS_DISK_VM_COUNT. */
export function workloadEnvName(workload: string, field: WorkloadField | "params"): string {
  const upper = (s: string) => s.toUpperCase().replace(/-/g, "_");
  return `VIRTWORK_WORKLOAD_${upper(workload)}_${upper(field)}`;
}

/** Env vars read outside the settings table. */
export const EXTRA_ENV = ["VIRTWORK_CONFIG", "VIRTWORK_PARAMS"] as const;
