import { didYouMean } from "../util/suggest.ts";
import { EXTRA_ENV, FLAGS, type FlagDef, SETTINGS, type SettingDef } from "./settings.ts";

/**
 * VIRTWORK_* variables that belong to this repository's tooling, not to the CLI: the test
 * cluster, guest and golden-image tests, the Makefile's Node and cache, the demo. A developer
 * exports them in the same shell that runs the CLI, so they are never warned about. Whole
 * families by prefix (none is a prefix of a CLI variable), single ones by name.
 */
export const TOOLING_ENV_PREFIXES = [
  "VIRTWORK_TEST_",
  "VIRTWORK_SANDBOX_",
  "VIRTWORK_CLUSTER_",
  "VIRTWORK_CDI_",
  "VIRTWORK_UPDATE_",
] as const;
export const TOOLING_ENV = [
  "VIRTWORK_CACHE",
  "VIRTWORK_NODE_VERSION",
  "VIRTWORK_FORCE_PINNED_NODE",
  "VIRTWORK_DEBIAN_MIRROR",
  "VIRTWORK_APT_WAIT",
  "VIRTWORK_SIM_LOG",
  "VIRTWORK_PG_DIR",
  "VIRTWORK_DEMO_DIR",
  "VIRTWORK_COMMIT",
  "VIRTWORK_SKIP_GUEST_TEST",
  "VIRTWORK_CHECK_BASE",
  // guest tests (test/guest/): listed one by one, VIRTWORK_GUEST_OS is the CLI's
  "VIRTWORK_GUEST_ACCEL",
  "VIRTWORK_GUEST_CACHE",
  "VIRTWORK_GUEST_CASES",
  "VIRTWORK_GUEST_KEEP",
  "VIRTWORK_GUEST_PARALLEL",
  "VIRTWORK_GUEST_QEMU",
] as const;

/** Per-workload variables (VIRTWORK_WORKLOAD_<NAME>_<FIELD>): checked with the workloads known (layers.ts). */
export const WORKLOAD_ENV_PREFIX = "VIRTWORK_WORKLOAD_";

/** Every variable the CLI reads outside the per-workload family. */
export function cliEnvNames(): string[] {
  return [
    ...(Object.values(SETTINGS) as SettingDef<unknown>[]).map((d) => d.env),
    ...EXTRA_ENV,
    ...(Object.values(FLAGS) as FlagDef[]).flatMap((f) => (f.env ? [f.env] : [])),
  ];
}

function isTooling(name: string): boolean {
  return (
    (TOOLING_ENV as readonly string[]).includes(name) || TOOLING_ENV_PREFIXES.some((p) => name.startsWith(p))
  );
}

/**
 * One warning per VIRTWORK_* variable the CLI does not read (a typo would otherwise be
 * ignored in silence), naming the closest variable it does read. Like kubectl's warnings it
 * never fails the command.
 */
export function unknownEnvWarnings(env: Record<string, string | undefined>): string[] {
  const known = new Set(cliEnvNames());
  const warnings: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith("VIRTWORK_") || value === undefined) continue;
    if (known.has(name) || name.startsWith(WORKLOAD_ENV_PREFIX) || isTooling(name)) continue;
    const hint = didYouMean(name, known) || ' (not a variable of virtwork: see README.md "Configuration")';
    warnings.push(`ignoring unknown environment variable ${name}${hint}`);
  }
  return warnings;
}
