import { readFileSync } from "node:fs";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import type { SshAccess } from "../cloudinit/cloud-config.ts";
import { UsageError, usageErrorFrom } from "../errors.ts";
import { didYouMean } from "../util/suggest.ts";
import { type CatalogSource, openCatalog } from "../workloads/catalog/source.ts";
import { type GuestOsName, guestOsFromImage } from "../workloads/guest.ts";
import { resolveParams, type SourcedValue } from "../workloads/params.ts";
import { defaultWorkloadNames, type Registry } from "../workloads/registry.ts";
import { parseParams, parseQualifiedParams, parseSetting } from "./params.ts";
import {
  type DryRunMode,
  EXTRA_ENV,
  type OutputFormat,
  SETTINGS,
  type SettingDef,
  type SettingName,
  WORKLOAD_FIELDS,
  type WorkloadField,
  workloadEnvName,
} from "./settings.ts";
import { asPublicKeys, ValueProblem } from "./values.ts";

/** One workload of the run, with its resources and validated params. */
export interface SelectedWorkload {
  name: string;
  vmCount: number;
  cpuCores: number;
  memory: string;
  params: Record<string, string>;
}

export interface Config {
  namespace: string;
  kubeconfig?: string;
  context?: string;
  verbose: boolean;
  audit: boolean;
  auditDb?: string;
  workloads: SelectedWorkload[];
  diskSize: string;
  containerDiskImage: string;
  /** The guest profile: --guest-os, else implied by a well-known containerdisk image, else fedora. */
  guestOs: GuestOsName;
  storageClass?: string;
  dryRun: DryRunMode;
  wait: boolean;
  timeoutSeconds: number;
  /** Present only when SSH credentials (password or keys) were given. */
  ssh?: SshAccess;
  vmConcurrency: number;
  qps: number;
  burst: number;
  output: OutputFormat;
  showSecrets: boolean;
  configFile?: string;
  /** Where each global setting's value came from: a flag, an env var, the file or "default". */
  sources: Partial<Record<SettingName, string>>;
  catalogDir: string;
}

export interface LoadInput {
  /** Only the flags given on the command line, keyed by long name (e.g. "vm-count"). */
  flags: Record<string, unknown>;
  env: Record<string, string | undefined>;
  /** The built-in workloads; catalog entries are added from the catalog directory. */
  registry: Registry;
  readFile?: (path: string) => string;
  /** Opens the catalog directory (default: the file system). */
  openCatalog?: (dir: string, origin: string) => CatalogSource;
}

export interface LoadResult {
  config: Config;
  warnings: string[];
  /** The built-ins plus every catalog entry that was loaded: what `plan` needs. */
  registry: Registry;
  catalog: CatalogSource;
}

type FileMap = Record<string, unknown>;
const WORKLOAD_KEYS = [...Object.keys(WORKLOAD_FIELDS), "params"];

/** `cpu_cores` and `cpu-cores` are the same key; hyphens are canonical. */
function canonicalKey(key: string): string {
  return key.replace(/_/g, "-");
}

function readConfigFile(path: string, readFile: (p: string) => string, field: string): FileMap {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
    throw new UsageError(`${field}: cannot read config file ${path}: ${reason}`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const [first] = doc.errors;
  if (first) {
    const pos = lineCounter.linePos(first.pos[0]);
    throw new UsageError(`config file ${path}: line ${pos.line}: ${first.message.split("\n")[0]}`);
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return {};
  if (!isMap(doc.contents))
    throw new UsageError(`config file ${path}: the top level must be a mapping of settings`);
  return canonicalize(doc.toJS() as FileMap, path, "");
}

function canonicalize(map: FileMap, path: string, prefix: string): FileMap {
  const out: FileMap = {};
  for (const [rawKey, value] of Object.entries(map)) {
    const key = canonicalKey(rawKey);
    if (key in out)
      throw new UsageError(
        `config file ${path}: ${prefix}${key} is given twice (as ${rawKey} and its other spelling)`,
      );
    const isParams = prefix.endsWith(".params.") || prefix === "params.";
    out[key] =
      value && typeof value === "object" && !Array.isArray(value) && !isParams
        ? canonicalize(value as FileMap, path, `${prefix}${key}.`)
        : value;
  }
  return out;
}

export function loadConfig(input: LoadInput): LoadResult {
  const { flags, env } = input;
  // Catalog entries join the built-ins as they are loaded, so they take settings and params.
  const registry = new Map(input.registry);
  const readFile = input.readFile ?? ((p: string) => readFileSync(p, "utf8"));
  const problems: string[] = [];
  const warnings: string[] = [];

  const configPath = (flags.config as string | undefined) ?? env.VIRTWORK_CONFIG;
  const configField = flags.config !== undefined ? "--config" : "VIRTWORK_CONFIG";
  const file = configPath ? readConfigFile(configPath, readFile, configField) : {};
  const fileLabel = `config file ${configPath}`;

  // Unknown keys in the file are errors, with a suggestion.
  const fileKeys = new Map<string, SettingName | "workloads">();
  for (const [name, def] of Object.entries(SETTINGS) as [SettingName, SettingDef<unknown>][]) {
    fileKeys.set(def.key, name);
    for (const alias of def.aliases ?? []) fileKeys.set(alias, name);
  }
  for (const key of Object.keys(file)) {
    if (!fileKeys.has(key))
      problems.push(`${fileLabel}: unknown key "${key}"${didYouMean(key, fileKeys.keys())}`);
  }

  const sources: Partial<Record<SettingName, string>> = {};
  /** `fileOverride` replaces the file lookup (the file's `workloads` may be a map instead). */
  function resolve<T>(
    name: SettingName,
    def: SettingDef<T>,
    fileOverride?: { value: unknown },
  ): T | undefined {
    const candidates: [unknown, string][] = [];
    if (def.flag !== undefined && flags[def.flag] !== undefined)
      candidates.push([flags[def.flag], `--${def.flag}`]);
    if (env[def.env] !== undefined && env[def.env] !== "") candidates.push([env[def.env], def.env]);
    const inFile = [def.key, ...(def.aliases ?? [])].find((k) => file[k] !== undefined && file[k] !== null);
    if (fileOverride) {
      if (fileOverride.value !== undefined) candidates.push([fileOverride.value, `${fileLabel}: ${def.key}`]);
    } else if (inFile !== undefined) candidates.push([file[inFile], `${fileLabel}: ${inFile}`]);
    const [chosen] = candidates;
    if (!chosen) {
      sources[name] = "default";
      return def.default;
    }
    sources[name] = chosen[1];
    try {
      return def.parse(chosen[0]);
    } catch (err) {
      if (!(err instanceof ValueProblem)) throw err;
      problems.push(`${chosen[1]}: ${err.message}`);
      return def.default;
    }
  }

  // The file's `workloads` is either a list of names or a map of per-workload settings.
  const fileWorkloads = file.workloads;
  const fileWorkloadList =
    Array.isArray(fileWorkloads) || typeof fileWorkloads === "string" ? fileWorkloads : undefined;
  const fileWorkloadMap =
    fileWorkloads && typeof fileWorkloads === "object" && !Array.isArray(fileWorkloads)
      ? (fileWorkloads as Record<string, unknown>)
      : {};
  if (
    fileWorkloads !== undefined &&
    fileWorkloads !== null &&
    fileWorkloadList === undefined &&
    typeof fileWorkloads !== "object"
  ) {
    problems.push(`${fileLabel}: workloads must be a list of names or a map of per-workload settings`);
  }

  const get = <N extends SettingName>(name: N, fileOverride?: { value: unknown }) =>
    resolve(name, SETTINGS[name] as SettingDef<unknown>, fileOverride);

  const namespace = get("namespace") as string;
  const kubeconfig = get("kubeconfig") as string | undefined;
  const context = get("context") as string | undefined;
  const verbose = get("verbose") as boolean;
  const audit = get("audit") as boolean;
  const auditDb = get("auditDb") as string | undefined;
  const selection = get("workloads", { value: fileWorkloadList });
  const vmCount = get("vmCount") as number;
  const cpuCores = get("cpuCores") as number;
  const memory = get("memory") as string;
  const diskSize = get("diskSize") as string;
  const containerDiskImage = get("containerDiskImage") as string;
  let guestOs = get("guestOs") as GuestOsName | undefined;
  if (guestOs === undefined) {
    guestOs = guestOsFromImage(containerDiskImage);
    sources.guestOs = guestOs ? `implied by ${sources.containerDiskImage}` : "default";
    guestOs ??= "fedora";
  }
  const storageClass = get("storageClass") as string | undefined;
  const dryRun = get("dryRun") as DryRunMode;
  const wait = get("wait") as boolean;
  const timeoutSeconds = get("timeout") as number;
  const sshUser = get("sshUser") as string;
  const sshPassword = get("sshPassword") as string | undefined;
  const sshKeys = (get("sshAuthorizedKeys") as string[] | undefined) ?? [];
  const sshKeyFiles = (get("sshKeyFiles") as string[] | undefined) ?? [];
  const vmConcurrency = get("vmConcurrency") as number;
  const qps = get("qps") as number;
  const burst = get("burst") as number;
  const output = get("output") as OutputFormat;
  const showSecrets = get("showSecrets") as boolean;
  const catalogDir = get("catalogDir") as string;
  const fromCatalog = (get("fromCatalog") as string[] | undefined) ?? [];
  const catalog = (input.openCatalog ?? openCatalog)(catalogDir, sources.catalogDir ?? "default");

  for (const keyFile of sshKeyFiles) {
    try {
      const text = readFile(keyFile).trim();
      if (text !== "")
        sshKeys.push(...asPublicKeys(text.split("\n").filter((l) => l.trim() && !l.startsWith("#"))));
    } catch (err) {
      const reason =
        err instanceof ValueProblem
          ? err.message
          : (err as NodeJS.ErrnoException).code === "ENOENT"
            ? "no such file"
            : (err as Error).message;
      problems.push(`${sources.sshKeyFiles}: ${keyFile}: ${reason}`);
    }
  }

  // Per-workload settings and params, from --set / --params, env, and the file.
  let catalogNames: string[] = [];
  try {
    catalogNames = catalog.names().filter((n) => !registry.has(n));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    problems.push(err.message);
  }
  const known = [...registry.keys(), ...catalogNames];
  const failedEntries = new Set<string>();
  const loadEntry = (name: string): boolean => {
    if (registry.has(name)) return true;
    if (failedEntries.has(name)) return false;
    try {
      registry.set(name, catalog.load(name));
      return true;
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      failedEntries.add(name);
      problems.push(err.message);
      return false;
    }
  };
  const checkWorkload = (name: string, where: string): boolean => {
    if (registry.has(name)) return true;
    if (catalogNames.includes(name)) return loadEntry(name);
    problems.push(
      `${where}: unknown workload "${name}"${didYouMean(name, known)}; available: ${known.join(", ")}`,
    );
    return false;
  };
  const fields = new Map<string, Partial<Record<WorkloadField, [unknown, string]>>>();
  const params = new Map<string, Record<string, SourcedValue>>();
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
  const guard = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      problems.push(err.message);
    }
  };

  // Highest priority first: each setter keeps the first value it sees.
  for (const text of (flags.set as string[] | undefined) ?? []) {
    guard(() => {
      const { workload, field, value } = parseSetting(text);
      const where = `--set ${workload}.${field}`;
      if (!checkWorkload(workload, where)) return;
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
  for (const text of (flags.params as string[] | undefined) ?? []) {
    guard(() => {
      for (const p of parseQualifiedParams(text, "--params")) {
        if (checkWorkload(p.workload, `--params ${p.workload}.${p.key}`)) {
          setParam(p.workload, p.key, p.value, `--params ${p.workload}.${p.key}`);
        }
      }
    });
  }
  if (env.VIRTWORK_PARAMS) {
    const text = env.VIRTWORK_PARAMS;
    guard(() => {
      for (const p of parseQualifiedParams(text, "VIRTWORK_PARAMS")) {
        if (checkWorkload(p.workload, `VIRTWORK_PARAMS ${p.workload}.${p.key}`)) {
          setParam(p.workload, p.key, p.value, `VIRTWORK_PARAMS ${p.workload}.${p.key}`);
        }
      }
    });
  }
  const workloadEnv = new Set<string>();
  for (const name of known) {
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
        for (const p of parseParams(paramsText, paramsVar))
          setParam(name, p.key, p.value, `${paramsVar} ${p.key}`);
      });
    }
  }
  for (const [name, raw] of Object.entries(fileWorkloadMap)) {
    const where = `${fileLabel}: workloads.${name}`;
    if (!checkWorkload(name, where) || raw === null || raw === undefined) continue;
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
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith("VIRTWORK_") || value === undefined) continue;
    const isSetting =
      Object.values(SETTINGS).some((d) => d.env === name) || (EXTRA_ENV as readonly string[]).includes(name);
    if (isSetting || workloadEnv.has(name)) continue;
    const candidates = [...Object.values(SETTINGS).map((d) => d.env), ...EXTRA_ENV, ...workloadEnv];
    if (name.startsWith("VIRTWORK_WORKLOAD_")) {
      problems.push(
        `${name}: unknown workload setting${didYouMean(name, workloadEnv)} (expected VIRTWORK_WORKLOAD_<NAME>_<ENABLED|VM_COUNT|CPU_CORES|MEMORY|PARAMS>)`,
      );
    } else {
      warnings.push(`ignoring unknown environment variable ${name}${didYouMean(name, candidates)}`);
    }
  }

  // Parse per-workload fields.
  const workloadSettings = new Map<
    string,
    Partial<{ enabled: boolean; "vm-count": number; "cpu-cores": number; memory: string }>
  >();
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
    workloadSettings.set(name, parsed);
  }

  // Selection: the list (flag > env > file > default), then `enabled` adds or removes.
  // With --from-catalog and no explicit list, only the catalog entries run (reference §1.9).
  let names: string[];
  if (selection === undefined) {
    names = fromCatalog.length ? [] : defaultWorkloadNames(input.registry);
  } else {
    names = [];
    for (const name of selection as string[]) {
      const where = sources.workloads ?? "--workloads";
      if (name === "all") names.push(...input.registry.keys());
      else if (!input.registry.has(name) && catalogNames.includes(name))
        problems.push(`${where}: "${name}" is a catalog entry; select it with --from-catalog ${name}`);
      else if (checkWorkload(name, where)) names.push(name);
    }
  }
  for (const name of fromCatalog) {
    if (input.registry.has(name)) {
      problems.push(
        `${sources.fromCatalog}: "${name}" is a built-in workload, not a catalog entry; select it with --workloads ${name}`,
      );
    } else if (loadEntry(name)) names.push(name);
  }
  names = [...new Set(names)];
  for (const [name, s] of workloadSettings) {
    if (s.enabled === false) names = names.filter((n) => n !== name);
    else if (s.enabled === true && !names.includes(name)) names.push(name);
  }
  if (names.length === 0 && problems.length === 0) {
    problems.push(
      `${sources.workloads ?? "--workloads"}: no workloads selected; name at least one of ${known.join(", ")} (or "all")`,
    );
  }

  // Params of every workload mentioned are checked, selected or not, so typos never pass.
  const resolvedParams = new Map<string, Record<string, string>>();
  for (const name of new Set([...names, ...params.keys()])) {
    const workload = catalogNames.includes(name) && loadEntry(name) ? registry.get(name) : registry.get(name);
    if (!workload) continue;
    const result = resolveParams(name, workload.params, params.get(name) ?? {});
    problems.push(...result.problems);
    resolvedParams.set(name, result.params);
  }

  if (sshPassword === undefined && sshKeys.length === 0 && sources.sshUser !== "default") {
    warnings.push(`${sources.sshUser}: no guest user is created without --ssh-password or --ssh-key`);
  }

  if (problems.length) throw usageErrorFrom(problems);

  const config: Config = {
    namespace,
    verbose,
    audit,
    workloads: names.map((name) => {
      const s = workloadSettings.get(name) ?? {};
      return {
        name,
        vmCount: s["vm-count"] ?? vmCount,
        cpuCores: s["cpu-cores"] ?? cpuCores,
        memory: s.memory ?? memory,
        params: resolvedParams.get(name) ?? {},
      };
    }),
    diskSize,
    containerDiskImage,
    guestOs,
    dryRun,
    wait,
    timeoutSeconds,
    vmConcurrency,
    qps,
    burst,
    output,
    showSecrets,
    sources,
    catalogDir,
  };
  if (kubeconfig !== undefined) config.kubeconfig = kubeconfig;
  if (context !== undefined) config.context = context;
  if (auditDb !== undefined) config.auditDb = auditDb;
  if (storageClass !== undefined) config.storageClass = storageClass;
  if (configPath) config.configFile = configPath;
  if (sshPassword !== undefined || sshKeys.length) {
    config.ssh = { user: sshUser, authorizedKeys: [...new Set(sshKeys)] };
    if (sshPassword !== undefined) config.ssh.password = sshPassword;
  }
  return { config, warnings, registry, catalog };
}
