import { type Command, Option } from "commander";
import { GUEST_OS_NAMES } from "../workloads/guest.ts";

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Flags every command accepts (reference §1.2), plus -n and --context like kubectl. */
export function addGlobalOptions(cmd: Command): Command {
  return cmd
    .option("-n, --namespace <name>", "namespace for every object (default: virtwork)")
    .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
    .option("--context <name>", "kubeconfig context to use")
    .option("--config <path>", "YAML config file (env: VIRTWORK_CONFIG)")
    .option("-v, --verbose", "debug logging on stderr")
    .option("--audit", "record the run in the audit database (default)")
    .option("--no-audit", "do not record the run in the audit database")
    .option("--audit-db <path|url>", "audit database: SQLite file or postgres:// URL");
}

/** Flags of `run` and `validate`: everything that shapes the plan (reference §1.3). */
export function addPlanOptions(cmd: Command): Command {
  return cmd
    .option(
      "-w, --workloads <names>",
      "workloads to run, comma-separated or repeated; 'all' adds chaos (default: cpu,memory,disk,database,network,tps)",
      collect,
    )
    .option("--vm-count <n>", "VMs per workload, per role for network and tps (default: 1)")
    .option("--cpu-cores <n>", "vCPU cores per VM (default: 2)")
    .option("--memory <quantity>", "memory per VM (default: 2Gi)")
    .option("--disk-size <quantity>", "size of each data disk (default: 10Gi)")
    .option("--container-disk-image <image>", "boot disk image (default: quay.io/containerdisks/fedora:42)")
    .addOption(
      new Option(
        "--guest-os <os>",
        "guest OS of the image (default: implied by quay.io/containerdisks/<os>, else fedora)",
      ).choices([...GUEST_OS_NAMES]),
    )
    .option("--storage-class <name>", "StorageClass of the data disks (default: the cluster default)")
    .option("--catalog-dir <dir>", "directory of catalog workloads (default: ~/.virtwork/catalog)")
    .option(
      "--from-catalog <entries>",
      "catalog entries to run, comma-separated or repeated; without --workloads only these run",
      collect,
    )
    .option("--params <workload.key=value>", "workload param, repeatable; values may contain commas", collect)
    .option(
      "--set <workload.field=value>",
      "per-workload setting (enabled, vm-count, cpu-cores, memory), repeatable",
      collect,
    )
    .option("--ssh-user <name>", "guest user created when SSH credentials are given (default: virtwork)")
    .option("--ssh-password <password>", "password of the guest user (prefer VIRTWORK_SSH_PASSWORD)")
    .option("--ssh-key <public-key>", "SSH public key of the guest user, repeatable", collect)
    .option("--ssh-key-file <path>", "file with SSH public keys of the guest user, repeatable", collect)
    .addOption(new Option("-o, --output <format>", "format of printed objects").choices(["yaml", "json"]))
    .option("--show-secrets", "print passwords instead of redacting them");
}

/** Flags that only matter when deploying. */
export function addRunOptions(cmd: Command): Command {
  return cmd
    .option(
      "--dry-run [mode]",
      "client (default when given): print the objects, contact no cluster; server: let the cluster check them",
    )
    .option("--wait", "wait until every VM is running (default)")
    .option("--no-wait", "return as soon as the objects are created")
    .option("--timeout <duration>", "how long to wait for the VMs: seconds or e.g. 10m (default: 600)")
    .option("--vm-concurrency <n>", "VMs created in parallel (default: 10)")
    .option("--qps <n>", "client-side limit of API requests per second (default: 50)")
    .option("--burst <n>", "requests allowed in a burst above --qps (default: 100)");
}

/**
 * The flags given on the command line (not defaults), keyed by long name without dashes
 * and without `no-`, e.g. { "vm-count": "3", audit: false }.
 */
export function explicitFlags(cmd: Command): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (let c: Command | null = cmd; c; c = c.parent) {
    const values = c.opts();
    for (const option of c.options) {
      const attr = option.attributeName();
      if (c.getOptionValueSource(attr) !== "cli" || !option.long) continue;
      const name = option.long.replace(/^--(no-)?/, "");
      if (!(name in flags)) flags[name] = values[attr];
    }
  }
  return flags;
}
