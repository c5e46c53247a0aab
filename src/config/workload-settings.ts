import { UsageError } from "../errors.ts";
import type { Quantity } from "../util/quantity.ts";
import { didYouMean } from "../util/suggest.ts";
import type { SourcedValue } from "../workloads/params.ts";
import { type ConfigFile, canonicalKey } from "./file.ts";
import type { KnownWorkloads } from "./known-workloads.ts";
import { parseParams, parseQualifiedParams, parseSetting } from "./params.ts";
import { FLAGS, WORKLOAD_FIELDS, type WorkloadField, workloadEnvName } from "./settings.ts";
import { ValueProblem } from "./values.ts";

const WORKLOAD_KEYS = [...Object.keys(WORKLOAD_FIELDS), "params"];

/** A workload's own settings, parsed; absent fields fall back to the global ones. */
export type WorkloadOverrides = Partial<{
  enabled: boolean;
  "vm-count": number;
  "cpu-cores": number;
  memory: Quantity;
  "cpu-request": string;
  "termination-grace-period": number;
}>;

type GivenFields = Map<string, Partial<Record<WorkloadField, [unknown, string]>>>;

export interface WorkloadSettings {
  /** Per workload: the fields given anywhere, with where each came from (parse with parseOverrides). */
  fields: GivenFields;
  /** Per workload: the params given anywhere, with where each came from. */
  params: Map<string, Record<string, SourcedValue>>;
  /** Every VIRTWORK_WORKLOAD_* variable a known workload may take. */
  workloadEnv: Set<string>;
  /** Workloads given params on the command line or in the environment: the first source of each. */
  explicitParams: Map<string, string>;
}

/**
 * Per-workload settings and params, highest priority first: --set / --params,
 * VIRTWORK_PARAMS and VIRTWORK_WORKLOAD_<NAME>_<FIELD>, then the file's `workloads.<name>`.
 */
export function collectWorkloadSettings(
  input: {
    flags: Record<string, unknown>;
    env: Record<string, string | undefined>;
    file: ConfigFile;
    /** The file's `workloads` when it is a map of per-workload settings. */
    fileWorkloads: Record<string, unknown>;
    workloads: KnownWorkloads;
  },
  problems: string[],
): WorkloadSettings {
  const { flags, env, file, workloads } = input;
  const fields: GivenFields = new Map();
  const params = new Map<string, Record<string, SourcedValue>>();
  // Each setter keeps the first value it sees.
  const setField = (workload: string, field: WorkloadField, value: unknown, source: string) => {
    const current = fields.get(workload) ?? {};
    current[field] ??= [value, source];
    fields.set(workload, current);
  };
  const setParam = (workload: string, key: string, value: string, source: string) => {
    const current = params.get(workload) ?? {};
    current[key] ??= { value, source };
    params.set(workload, current);
  };
  const explicitParams = new Map<string, string>();
  const guard = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      problems.push(err.message);
    }
  };

  for (const text of (flags[FLAGS.set.long] as string[] | undefined) ?? []) {
    guard(() => {
      const { workload, field, value } = parseSetting(text);
      const where = `--set ${workload}.${field}`;
      if (!workloads.check(workload, where)) return;
      if (!(field in WORKLOAD_FIELDS)) {
        const hint =
          field === "params" ? " (use --params for params)" : didYouMean(field, Object.keys(WORKLOAD_FIELDS));
        problems.push(
          `${where}: unknown field "${field}"${hint}; fields: ${Object.keys(WORKLOAD_FIELDS).join(", ")}`,
        );
        return;
      }
      setField(workload, field as WorkloadField, value, where);
    });
  }
  const qualified = (text: string, label: string) =>
    guard(() => {
      for (const p of parseQualifiedParams(text, label)) {
        if (workloads.check(p.workload, `${label} ${p.workload}.${p.key}`)) {
          setParam(p.workload, p.key, p.value, `${label} ${p.workload}.${p.key}`);
          if (!explicitParams.has(p.workload))
            explicitParams.set(p.workload, `${label} ${p.workload}.${p.key}`);
        }
      }
    });
  for (const text of (flags[FLAGS.params.long] as string[] | undefined) ?? []) qualified(text, "--params");
  if (env[FLAGS.params.env]) qualified(env[FLAGS.params.env] as string, FLAGS.params.env);

  const workloadEnv = new Set<string>();
  for (const name of workloads.names) {
    for (const field of Object.keys(WORKLOAD_FIELDS) as WorkloadField[]) {
      const var_ = workloadEnvName(name, field);
      workloadEnv.add(var_);
      if (env[var_] !== undefined && env[var_] !== "") setField(name, field, env[var_], var_);
    }
    const paramsVar = workloadEnvName(name, "params");
    workloadEnv.add(paramsVar);
    const paramsText = env[paramsVar];
    if (paramsText) {
      guard(() => {
        for (const p of parseParams(paramsText, paramsVar)) {
          setParam(name, p.key, p.value, `${paramsVar} ${name}.${p.key}`);
          if (!explicitParams.has(name)) explicitParams.set(name, paramsVar);
        }
      });
    }
  }

  for (const [name, raw] of Object.entries(input.fileWorkloads)) {
    const where = `${file.label}: workloads.${name}`;
    if (!workloads.check(name, where) || raw === null || raw === undefined) continue;
    if (typeof raw !== "object" || Array.isArray(raw)) {
      problems.push(`${where}: must be a map with keys ${WORKLOAD_KEYS.join(", ")}`);
      continue;
    }
    for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
      if (key === "params") {
        if (value === null) continue;
        if (typeof value !== "object" || Array.isArray(value)) {
          problems.push(`${where}.params: must be a map of param names to values`);
          continue;
        }
        for (const [pk, pv] of Object.entries(value as Record<string, unknown>)) {
          if (pv !== null && typeof pv === "object") {
            problems.push(`${where}.params.${pk}: must be a single value, not a list or map`);
            continue;
          }
          setParam(name, canonicalKey(pk), pv === null ? "" : String(pv), `${where}.params.${pk}`);
        }
      } else if (key in WORKLOAD_FIELDS) {
        if (value !== null) setField(name, key as WorkloadField, value, `${where}.${key}`);
      } else {
        problems.push(`${where}: unknown key "${key}"${didYouMean(key, WORKLOAD_KEYS)}`);
      }
    }
  }

  return { fields, params, workloadEnv, explicitParams };
}

/** Parses the per-workload fields; a bad value is a problem naming where it came from. */
export function parseOverrides(fields: GivenFields, problems: string[]): Map<string, WorkloadOverrides> {
  const overrides = new Map<string, WorkloadOverrides>();
  for (const [name, given] of fields) {
    const parsed: Record<string, unknown> = {};
    for (const [field, [value, source]] of Object.entries(given) as [WorkloadField, [unknown, string]][]) {
      try {
        parsed[field] = WORKLOAD_FIELDS[field].parse(value);
      } catch (err) {
        if (!(err instanceof ValueProblem)) throw err;
        problems.push(`${source}: ${err.message}`);
      }
    }
    overrides.set(name, parsed);
  }
  return overrides;
}
