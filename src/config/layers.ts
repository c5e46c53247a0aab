import { usageErrorFrom } from "../errors.ts";
import { didYouMean } from "../util/suggest.ts";
import { WORKLOAD_ENV_PREFIX } from "./env.ts";
import type { ConfigFile } from "./file.ts";
import { SETTINGS, type SettingDef, type SettingName } from "./settings.ts";
import { ValueProblem } from "./values.ts";

/**
 * The layered resolution of global settings: flag > VIRTWORK_* env > config file > default.
 * Collects every problem (one line each, naming where the value came from) and where each
 * value came from.
 */
export class SettingLayers {
  readonly sources: Partial<Record<SettingName, string>> = {};
  readonly problems: string[] = [];
  readonly flags: Record<string, unknown>;
  readonly env: Record<string, string | undefined>;
  readonly file: ConfigFile;

  constructor(flags: Record<string, unknown>, env: Record<string, string | undefined>, file: ConfigFile) {
    this.flags = flags;
    this.env = env;
    this.file = file;
  }

  /** `fileOverride` replaces the file lookup (the file's `workloads` may be a map instead). */
  get<N extends SettingName>(name: N, fileOverride?: { value: unknown }): SettingValue<N> {
    const def = SETTINGS[name] as SettingDef<unknown>;
    const { flags, env, file } = this;
    const candidates: [unknown, string][] = [];
    if (def.flag !== undefined && flags[def.flag] !== undefined)
      candidates.push([flags[def.flag], `--${def.flag}`]);
    if (env[def.env] !== undefined && env[def.env] !== "") candidates.push([env[def.env], def.env]);
    const inFile = [def.key, ...(def.aliases ?? [])].find(
      (k) => file.values[k] !== undefined && file.values[k] !== null,
    );
    if (fileOverride) {
      if (fileOverride.value !== undefined)
        candidates.push([fileOverride.value, `${file.label}: ${def.key}`]);
    } else if (inFile !== undefined) candidates.push([file.values[inFile], `${file.label}: ${inFile}`]);
    const [chosen] = candidates;
    if (!chosen) {
      this.sources[name] = "default";
      return def.default as SettingValue<N>;
    }
    this.sources[name] = chosen[1];
    try {
      return def.parse(chosen[0]) as SettingValue<N>;
    } catch (err) {
      if (!(err instanceof ValueProblem)) throw err;
      this.problems.push(`${chosen[1]}: ${err.message}`);
      return def.default as SettingValue<N>;
    }
  }

  /** Unknown keys at the top of the config file, with a suggestion. */
  checkFileKeys(): void {
    const fileKeys = new Set<string>();
    for (const def of Object.values(SETTINGS) as SettingDef<unknown>[]) {
      fileKeys.add(def.key);
      for (const alias of def.aliases ?? []) fileKeys.add(alias);
    }
    for (const key of Object.keys(this.file.values)) {
      if (!fileKeys.has(key))
        this.problems.push(`${this.file.label}: unknown key "${key}"${didYouMean(key, fileKeys)}`);
    }
  }

  /** Throws one UsageError with every problem found so far. */
  throwProblems(): void {
    if (this.problems.length) throw usageErrorFrom(this.problems);
  }
}

/** The parsed type of a setting; optional ones may be undefined. */
export type SettingValue<N extends SettingName> =
  (typeof SETTINGS)[N] extends SettingDef<infer T>
    ? (typeof SETTINGS)[N] extends { default: unknown }
      ? T
      : T | undefined
    : never;

/**
 * Unknown VIRTWORK_WORKLOAD_* variables are errors (a typo in a workload's setting would run
 * it with the wrong shape); every other unknown VIRTWORK_* variable is a warning of every
 * command (env.ts), not checked here.
 */
export function checkWorkloadEnv(
  env: Record<string, string | undefined>,
  workloadEnv: ReadonlySet<string>,
  problems: string[],
): void {
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(WORKLOAD_ENV_PREFIX) || value === undefined || workloadEnv.has(name)) continue;
    problems.push(
      `${name}: unknown workload setting${didYouMean(name, workloadEnv)} (expected VIRTWORK_WORKLOAD_<NAME>_<ENABLED|VM_COUNT|CPU_CORES|MEMORY|CPU_REQUEST|TERMINATION_GRACE_PERIOD|PARAMS>)`,
    );
  }
}

/** Some settings on their own (e.g. history's audit database), through the same layers. */
export function resolveSettings<N extends SettingName>(
  names: readonly N[],
  layers: SettingLayers,
): { [K in N]: SettingValue<K> } {
  const out = {} as { [K in N]: SettingValue<K> };
  for (const name of names) out[name] = layers.get(name);
  layers.throwProblems();
  return out;
}
