import { GUEST_OS_NAMES } from "../workloads/guest.ts";
import { createRegistry, defaultWorkloadNames } from "../workloads/registry.ts";
import {
  asAuditDb,
  asBool,
  asCpuRequest,
  asDirectory,
  asDnsLabel,
  asDnsSubdomain,
  asGuestUser,
  asImage,
  asInt,
  asList,
  asMemory,
  asNonEmptyList,
  asNonEmptyString,
  asPassword,
  asPublicKeys,
  asQuantity,
  asSeconds,
  asString,
  oneOf,
  ValueProblem,
} from "./values.ts";

export type DryRunMode = "none" | "client" | "server";

/** KubeVirt's eviction strategies, plus `cluster`: leave the field out and inherit the cluster's. */
export const EVICTION_STRATEGIES = [
  "LiveMigrateIfPossible",
  "LiveMigrate",
  "None",
  "External",
  "cluster",
] as const;
export type EvictionStrategy = (typeof EVICTION_STRATEGIES)[number];

function asEvictionStrategy(raw: unknown): EvictionStrategy {
  const text = asString(raw);
  const found = EVICTION_STRATEGIES.find((s) => s.toLowerCase() === text.toLowerCase());
  if (found) return found;
  throw new ValueProblem(`must be one of ${EVICTION_STRATEGIES.join(", ")}, got "${text}"`);
}
const OUTPUT_FORMATS = ["yaml", "json"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
const LOG_FORMATS = ["text", "json"] as const;
export type LogFormatName = (typeof LOG_FORMATS)[number];
/** What -o takes on commands that print lists (kubectl's; no -o: a table). */
const LIST_FORMATS = ["wide", "name", "yaml", "json"] as const;
const CATALOG_DIR = "~/.virtwork/catalog";

/** Where a flag is offered: every command ("global"), run + validate ("plan"), or one command. */
export type FlagGroup =
  | "global"
  | "plan"
  | "run"
  | "cleanup"
  | "status"
  | "verify"
  | "workloads"
  | "history"
  | "history show"
  | "version";

/** How a flag looks on the command line; help text, default and env var in --help come from here. */
export interface FlagSpec {
  /** e.g. "-n". */
  short?: string;
  /** Value placeholder, "<name>" (required) or "[mode]" (optional); absent for a switch. */
  value?: string;
  help: string;
  choices?: readonly string[];
  /** Given more than once, the values collect into a list. */
  repeatable?: boolean;
  /** A switch that also has a --no-<flag> form, with this help. */
  negate?: string;
  /** Values shell completion offers when `choices` does not enforce them (e.g. --dry-run's modes). */
  values?: readonly string[];
  /** What --help shows as the default when it is not the value itself (e.g. "the cluster default"). */
  defaultHelp?: string | (() => string);
  on: readonly FlagGroup[];
}

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
  /** The command-line face of the setting. */
  cli?: FlagSpec;
}

/** Keeps each entry's own types (what `parse` returns, whether there is a default). */
function setting<const D extends SettingDef<unknown>>(def: D): D {
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
    cli: {
      short: "-n",
      value: "<name>",
      help: "namespace for every object",
      defaultHelp: "the kubeconfig context's, else virtwork",
      on: ["global"],
    },
  }),
  kubeconfig: setting({
    key: "kubeconfig",
    flag: "kubeconfig",
    env: "VIRTWORK_KUBECONFIG",
    parse: asNonEmptyString,
    cli: {
      value: "<path>",
      help: "kubeconfig file",
      defaultHelp: "$KUBECONFIG, then ~/.kube/config",
      on: ["global"],
    },
  }),
  context: setting({
    key: "context",
    flag: "context",
    env: "VIRTWORK_CONTEXT",
    parse: asNonEmptyString,
    cli: { value: "<name>", help: "kubeconfig context to use", on: ["global"] },
  }),
  verbose: setting({
    key: "verbose",
    flag: "verbose",
    env: "VIRTWORK_VERBOSE",
    parse: asBool,
    default: false,
    cli: { short: "-v", help: "debug logging on stderr", on: ["global"] },
  }),
  logFormat: setting({
    key: "log-format",
    flag: "log-format",
    env: "VIRTWORK_LOG_FORMAT",
    parse: oneOf(...LOG_FORMATS),
    // No default here: text when stderr is a terminal, else json.
    cli: {
      value: "<format>",
      help: "format of the logs on stderr",
      choices: LOG_FORMATS,
      defaultHelp: "text on a terminal, else json",
      on: ["global"],
    },
  }),
  audit: setting({
    key: "audit",
    flag: "audit",
    env: "VIRTWORK_AUDIT",
    parse: asBool,
    default: true,
    cli: {
      help: "record the run in the audit database",
      negate: "do not record the run in the audit database",
      on: ["global"],
    },
  }),
  auditDb: setting({
    key: "audit-db",
    flag: "audit-db",
    env: "VIRTWORK_AUDIT_DB",
    parse: asAuditDb,
    cli: {
      value: "<path|url>",
      help: "audit database: SQLite file or postgres:// URL",
      defaultHelp: "$XDG_STATE_HOME/virtwork/audit.db",
      on: ["global"],
    },
  }),
  workloads: setting({
    key: "workloads",
    flag: "workloads",
    env: "VIRTWORK_WORKLOADS",
    parse: asList,
    cli: {
      short: "-w",
      value: "<names>",
      help: "workloads to run, comma-separated or repeated; 'all' adds chaos",
      repeatable: true,
      defaultHelp: () => defaultWorkloadNames(createRegistry()).join(","),
      on: ["plan"],
    },
  }),
  vmCount: setting({
    key: "vm-count",
    flag: "vm-count",
    env: "VIRTWORK_VM_COUNT",
    parse: asInt(1, 10000),
    default: 1,
    cli: { value: "<n>", help: "VMs per workload, per role for network and tps", on: ["plan"] },
  }),
  cpuCores: setting({
    key: "cpu-cores",
    flag: "cpu-cores",
    env: "VIRTWORK_CPU_CORES",
    parse: asInt(1, 1024),
    default: 2,
    cli: { value: "<n>", help: "vCPU cores per VM", on: ["plan"] },
  }),
  memory: setting({
    key: "memory",
    flag: "memory",
    env: "VIRTWORK_MEMORY",
    parse: asMemory,
    default: asMemory("2Gi"),
    cli: { value: "<quantity>", help: "memory per VM", on: ["plan"] },
  }),
  diskSize: setting({
    key: "disk-size",
    flag: "disk-size",
    env: "VIRTWORK_DISK_SIZE",
    aliases: ["data-disk-size"],
    parse: asQuantity,
    default: asQuantity("10Gi"),
    cli: { value: "<quantity>", help: "size of each data disk", on: ["plan"] },
  }),
  containerDiskImage: setting({
    key: "container-disk-image",
    flag: "container-disk-image",
    env: "VIRTWORK_CONTAINER_DISK_IMAGE",
    parse: asImage,
    // No default here: without an image, the guest OS picks its containerdisk (DEFAULT_IMAGES).
    cli: {
      value: "<image>",
      help: "boot disk image",
      defaultHelp: "the guest OS's containerdisk, quay.io/containerdisks/fedora:42 for fedora",
      on: ["plan"],
    },
  }),
  guestOs: setting({
    key: "guest-os",
    flag: "guest-os",
    env: "VIRTWORK_GUEST_OS",
    parse: oneOf(...GUEST_OS_NAMES),
    // No default here: when not given, the container disk image implies it, else fedora.
    cli: {
      value: "<os>",
      help: "guest OS of the image; alone, it picks that OS's containerdisk",
      choices: GUEST_OS_NAMES,
      defaultHelp: "implied by the image (…/containerdisks/<os>), else fedora",
      on: ["plan"],
    },
  }),
  goldenImage: setting({
    key: "golden-image",
    flag: "golden-image",
    env: "VIRTWORK_GOLDEN_IMAGE",
    parse: asBool,
    default: false,
    cli: {
      help: "the boot image is a golden image (images/golden/): the user-data installs nothing, only writes and starts the units",
      negate: "the image installs the workload packages at boot",
      on: ["plan"],
    },
  }),
  evictionStrategy: setting({
    key: "eviction-strategy",
    flag: "eviction-strategy",
    env: "VIRTWORK_EVICTION_STRATEGY",
    parse: asEvictionStrategy,
    default: "LiveMigrateIfPossible" as EvictionStrategy,
    cli: {
      value: "<strategy>",
      help: `what a node drain does to the VMs: ${EVICTION_STRATEGIES.join(", ")} (cluster: the cluster's setting)`,
      on: ["plan"],
    },
  }),
  cpuRequest: setting({
    key: "cpu-request",
    flag: "cpu-request",
    env: "VIRTWORK_CPU_REQUEST",
    parse: asCpuRequest,
    default: "auto",
    cli: {
      value: "<quantity>",
      help: "CPU request per VM: auto (the load the workload generates), none (KubeVirt's default) or e.g. 500m",
      on: ["plan"],
    },
  }),
  terminationGracePeriod: setting({
    key: "termination-grace-period",
    flag: "termination-grace-period",
    env: "VIRTWORK_TERMINATION_GRACE_PERIOD",
    parse: asSeconds,
    cli: {
      value: "<duration>",
      help: "seconds a VM may take to shut down",
      defaultHelp: "the workload's need: 180 for database, else KubeVirt's 30",
      on: ["plan"],
    },
  }),
  rng: setting({
    key: "rng",
    flag: "rng",
    env: "VIRTWORK_RNG",
    parse: asBool,
    default: true,
    cli: {
      help: "give every VM a virtio-rng device",
      negate: "no virtio-rng device",
      on: ["plan"],
    },
  }),
  storageClass: setting({
    key: "storage-class",
    flag: "storage-class",
    env: "VIRTWORK_STORAGE_CLASS",
    parse: asDnsSubdomain,
    cli: {
      value: "<name>",
      help: "StorageClass of the data disks",
      defaultHelp: "the cluster default",
      on: ["plan"],
    },
  }),
  dryRun: setting({
    key: "dry-run",
    flag: "dry-run",
    env: "VIRTWORK_DRY_RUN",
    parse: asDryRun,
    default: "none",
    cli: {
      value: "[mode]",
      help: "client (when given without a mode): print the objects, contact no cluster; server: let the cluster check them",
      values: ["client", "server", "none"],
      on: ["run"],
    },
  }),
  wait: setting({
    key: "wait",
    flag: "wait",
    env: "VIRTWORK_WAIT",
    aliases: ["wait-for-ready"],
    parse: asBool,
    default: true,
    cli: {
      help: "wait until every VM is running",
      negate: "return as soon as the objects are created",
      on: ["run"],
    },
  }),
  timeout: setting({
    key: "timeout",
    flag: "timeout",
    env: "VIRTWORK_TIMEOUT",
    parse: asSeconds,
    default: 600,
    cli: {
      value: "<duration>",
      help: "how long to wait (for the VMs; cleanup: until the objects are gone; verify --wait: for the signals): seconds or e.g. 10m",
      on: ["run", "cleanup", "verify"],
    },
  }),
  waitFor: setting({
    key: "wait-for",
    flag: "wait-for",
    env: "VIRTWORK_WAIT_FOR",
    parse: oneOf("running", "ready"),
    default: "ready",
    cli: {
      value: "<what>",
      help: "what the run waits for: ready (each VMI's Ready condition, i.e. its readiness probe) or running (the VMI runs)",
      on: ["run"],
    },
  }),
  unschedulableGrace: setting({
    key: "unschedulable-grace",
    flag: "unschedulable-grace",
    env: "VIRTWORK_UNSCHEDULABLE_GRACE",
    parse: asSeconds,
    default: 120,
    cli: {
      value: "<duration>",
      help: "how long a VM may stay unschedulable (a cluster autoscaler may add a node) before the run fails: seconds or e.g. 2m",
      on: ["run"],
    },
  }),
  sshUser: setting({
    key: "ssh-user",
    flag: "ssh-user",
    env: "VIRTWORK_SSH_USER",
    parse: asGuestUser,
    default: "virtwork",
    cli: {
      value: "<name>",
      help: "guest user created when SSH credentials are given (not a system account such as root)",
      on: ["plan"],
    },
  }),
  sshPassword: setting({
    key: "ssh-password",
    flag: "ssh-password",
    env: "VIRTWORK_SSH_PASSWORD",
    parse: asPassword,
    cli: {
      value: "<password>",
      help: "password of the guest user, sent only as a SHA-512 crypt hash (visible in ps: prefer --ssh-password-file or the env variable)",
      on: ["plan"],
    },
  }),
  sshPasswordFile: setting({
    key: "ssh-password-file",
    flag: "ssh-password-file",
    env: "VIRTWORK_SSH_PASSWORD_FILE",
    parse: asNonEmptyString,
    cli: { value: "<path>", help: "file whose first line is the guest user's password", on: ["plan"] },
  }),
  sshAuthorizedKeys: setting({
    key: "ssh-authorized-keys",
    flag: "ssh-key",
    env: "VIRTWORK_SSH_AUTHORIZED_KEYS",
    parse: asPublicKeys,
    cli: {
      value: "<public-key>",
      help: "SSH public key of the guest user, repeatable",
      repeatable: true,
      on: ["plan"],
    },
  }),
  sshKeyFiles: setting({
    key: "ssh-key-files",
    flag: "ssh-key-file",
    env: "VIRTWORK_SSH_KEY_FILES",
    aliases: ["ssh-key-file"],
    parse: asNonEmptyList,
    cli: {
      value: "<path>",
      help: "file with SSH public keys of the guest user, repeatable",
      repeatable: true,
      on: ["plan"],
    },
  }),
  vmConcurrency: setting({
    key: "vm-concurrency",
    flag: "vm-concurrency",
    env: "VIRTWORK_VM_CONCURRENCY",
    parse: asInt(1, 1000),
    default: 10,
    cli: { value: "<n>", help: "VMs created in parallel", on: ["run"] },
  }),
  qps: setting({
    key: "qps",
    flag: "qps",
    env: "VIRTWORK_QPS",
    parse: asInt(1, 10000),
    default: 100,
    cli: {
      value: "<n>",
      help: "client-side limit of API requests per second, halved while the server answers 429",
      on: ["run", "cleanup"],
    },
  }),
  burst: setting({
    key: "burst",
    flag: "burst",
    env: "VIRTWORK_BURST",
    parse: asInt(1, 10000),
    default: 500,
    cli: { value: "<n>", help: "requests allowed in a burst above --qps", on: ["run", "cleanup"] },
  }),
  output: setting({
    key: "output",
    flag: "output",
    env: "VIRTWORK_OUTPUT",
    parse: oneOf(...OUTPUT_FORMATS),
    default: "yaml",
    cli: {
      short: "-o",
      value: "<format>",
      help: "format of printed objects",
      choices: OUTPUT_FORMATS,
      on: ["plan"],
    },
  }),
  catalogDir: setting({
    key: "catalog-dir",
    flag: "catalog-dir",
    env: "VIRTWORK_CATALOG_DIR",
    parse: asDirectory,
    default: asDirectory(CATALOG_DIR),
    cli: {
      value: "<dir>",
      help: "directory of catalog workloads",
      defaultHelp: CATALOG_DIR,
      on: ["plan", "workloads"],
    },
  }),
  fromCatalog: setting({
    key: "from-catalog",
    flag: "from-catalog",
    env: "VIRTWORK_FROM_CATALOG",
    parse: asNonEmptyList,
    cli: {
      value: "<entries>",
      help: "catalog entries to run, comma-separated or repeated; without --workloads only these run",
      repeatable: true,
      on: ["plan"],
    },
  }),
} as const;

export type SettingName = keyof typeof SETTINGS;

/** Per-workload settings (`workloads.<name>.<field>`, `--set <name>.<field>=v`, env). */
export const WORKLOAD_FIELDS = {
  enabled: { parse: asBool },
  "vm-count": { parse: asInt(1, 10000) },
  "cpu-cores": { parse: asInt(1, 1024) },
  memory: { parse: asMemory },
  "cpu-request": { parse: asCpuRequest },
  "termination-grace-period": { parse: asSeconds },
} as const;
export type WorkloadField = keyof typeof WORKLOAD_FIELDS;

/** Env var of a per-workload field, e.g. VIRTWORK_WORKLOAD_CHAOS_DISK_VM_COUNT. */
export function workloadEnvName(workload: string, field: WorkloadField | "params"): string {
  const upper = (s: string) => s.toUpperCase().replace(/-/g, "_");
  return `VIRTWORK_WORKLOAD_${upper(workload)}_${upper(field)}`;
}

/** A flag that is not a layered setting: a command's own, or one feeding per-workload settings. */
export interface FlagDef extends FlagSpec {
  long: string;
  /** The env variable that gives the same. */
  env?: string;
  /** Commander's default (--help shows it). */
  default?: string;
}

/** -o of a command: no default, like kubectl (without -o: a table or text). */
const outputFlag = (choices: readonly string[], on: FlagGroup[], help = "output format"): FlagDef => ({
  long: "output",
  short: "-o",
  value: "<format>",
  help,
  choices,
  on,
});

/** Every flag that is not in SETTINGS; with SETTINGS, the one declaration of the command line. */
export const FLAGS = {
  config: {
    long: "config",
    value: "<path>",
    env: "VIRTWORK_CONFIG",
    help: "YAML config file",
    on: ["global"],
  },
  params: {
    long: "params",
    value: "<workload.key=value>",
    env: "VIRTWORK_PARAMS",
    help: "workload param, repeatable; values may contain commas",
    repeatable: true,
    on: ["plan"],
  },
  set: {
    long: "set",
    value: "<workload.field=value>",
    help: `per-workload setting (${Object.keys(WORKLOAD_FIELDS).join(", ")}), repeatable; env: VIRTWORK_WORKLOAD_<NAME>_<FIELD>`,
    repeatable: true,
    on: ["plan"],
  },
  runId: {
    long: "run-id",
    value: "<id>",
    help: "only what this run created",
    on: ["cleanup", "status", "verify"],
  },
  allNamespaces: {
    long: "all-namespaces",
    short: "-A",
    help: "virtwork's VMs in every namespace",
    on: ["status"],
  },
  runs: { long: "runs", help: "one line per run instead of one per VM", on: ["status"] },
  yes: {
    long: "yes",
    short: "-y",
    help: "do not ask for confirmation (required without a terminal)",
    on: ["cleanup"],
  },
  cleanupDryRun: {
    long: "dry-run",
    value: "[mode]",
    help: "client (when given without a mode): only show what would be deleted; server: send the deletes with dryRun=All",
    on: ["cleanup"],
  },
  cleanupWait: { long: "wait", help: "wait until the objects are gone", on: ["cleanup"] },
  deleteNamespace: {
    long: "delete-namespace",
    help: "also delete the namespace, if virtwork created it and nothing else lives there",
    on: ["cleanup"],
  },
  cleanupOutput: outputFlag(LIST_FORMATS, ["cleanup"], "format of the preview and the result"),
  statusOutput: outputFlag(LIST_FORMATS, ["status"]),
  workloadsOutput: outputFlag(LIST_FORMATS, ["workloads"]),
  historyOutput: outputFlag(LIST_FORMATS, ["history"]),
  historyShowOutput: outputFlag(OUTPUT_FORMATS, ["history show"]),
  limit: { long: "limit", value: "<n>", help: "how many runs to list", default: "20", on: ["history"] },
  versionOutput: outputFlag(OUTPUT_FORMATS, ["version"]),
  // virtwork verify (src/ops/verify/settings.ts parses and checks them), and run --verify
  prometheusUrl: {
    long: "prometheus-url",
    value: "<url>",
    env: "VIRTWORK_PROMETHEUS_URL",
    help: "Prometheus or Thanos querier base URL (default: OpenShift's Thanos querier route)",
    on: ["verify", "run"],
  },
  prometheusToken: {
    long: "prometheus-token",
    value: "<token>",
    env: "VIRTWORK_PROMETHEUS_TOKEN",
    help: "bearer token for --prometheus-url",
    on: ["verify", "run"],
  },
  prometheusCa: {
    long: "prometheus-ca",
    value: "<file>",
    env: "VIRTWORK_PROMETHEUS_CA",
    help: "PEM CA bundle that signed --prometheus-url's certificate",
    on: ["verify", "run"],
  },
  runVerify: {
    long: "verify",
    help: "after the VMs run, wait (up to --timeout) until Prometheus shows every VM's signals (see virtwork verify)",
    on: ["run"],
  },
  verifyWait: {
    long: "wait",
    help: "keep checking until every signal is there, or --timeout",
    on: ["verify"],
  },
  verifyFor: {
    long: "for",
    value: "<duration>",
    help: "watch the signals for this long (e.g. 1h) and report, per VM and signal, coverage and the longest gap (with --wait, or run --verify: once they are all there)",
    on: ["verify", "run"],
  },
  verifySince: {
    long: "since",
    value: "<duration>",
    help: "the same over the window that just ended (e.g. --since 1h: the last hour), without waiting",
    on: ["verify"],
  },
  verifyStep: {
    long: "step",
    value: "<duration>",
    help: "with --for/--since: the time between points, about Prometheus' scrape interval (default 30s)",
    on: ["verify", "run"],
  },
  verifyMaxGap: {
    long: "max-gap",
    value: "<duration>",
    help: "with --for/--since: the longest a signal may be missing before the VM fails (default 2 steps)",
    on: ["verify", "run"],
  },
  verifyOutput: outputFlag(["table", "json", "yaml"], ["verify"]),
} satisfies Record<string, FlagDef>;

/** Env vars read outside the settings table. */
export const EXTRA_ENV = [
  FLAGS.config.env,
  FLAGS.params.env,
  // src/kube/connect.ts: how long a kubeconfig exec credential plugin may take
  "VIRTWORK_EXEC_PLUGIN_TIMEOUT",
] as const;

/** The flags of SETTINGS offered in `groups`: what a command may hand to the settings resolver. */
export function settingFlags(flags: Record<string, unknown>, groups: FlagGroup[]): Record<string, unknown> {
  const names = new Set(
    (Object.values(SETTINGS) as SettingDef<unknown>[]).flatMap((d) =>
      d.flag && d.cli?.on.some((g) => groups.includes(g)) ? [d.flag] : [],
    ),
  );
  names.add(FLAGS.config.long);
  return Object.fromEntries(Object.entries(flags).filter(([k]) => names.has(k)));
}
