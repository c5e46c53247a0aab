import type { SshAccess } from "../cloudinit/cloud-config.ts";
import { hashPassword } from "../cloudinit/password.ts";
import { UsageError } from "../errors.ts";
import type { contextNamespace } from "../kube/context-namespace.ts";
import type { Quantity } from "../util/quantity.ts";
import { readTextFile } from "../util/text-file.ts";
import type { CatalogSource } from "../workloads/catalog/source.ts";
import { isStockImage } from "../workloads/golden.ts";
import { chooseGuest, type GuestOsName } from "../workloads/guest.ts";
import { resolveParams } from "../workloads/params.ts";
import type { Registry } from "../workloads/registry.ts";
import { openConfigFile } from "./file.ts";
import { KnownWorkloads } from "./known-workloads.ts";
import { checkWorkloadEnv, SettingLayers } from "./layers.ts";
import { resolveNamespace } from "./namespace.ts";
import { readPassword } from "./password.ts";
import { selectWorkloads } from "./selection.ts";
import type { DryRunMode, EvictionStrategy, LogFormatName, OutputFormat, SettingName } from "./settings.ts";
import { asPublicKeys, ValueProblem } from "./values.ts";
import { collectWorkloadSettings, parseOverrides } from "./workload-settings.ts";

/** One workload of the run, with its resources and validated params. */
export interface SelectedWorkload {
  name: string;
  vmCount: number;
  cpuCores: number;
  memory: Quantity;
  /** `auto`, `none` or a CPU quantity (see asCpuRequest). */
  cpuRequest: string;
  /** Absent → the workload's own need, else KubeVirt's default. */
  terminationGracePeriodSeconds?: number;
  params: Record<string, string>;
}

export interface Config {
  namespace: string;
  kubeconfig?: string;
  context?: string;
  verbose: boolean;
  /** Undefined: text when stderr is a terminal, else json (the CLI decides). */
  logFormat?: LogFormatName;
  audit: boolean;
  auditDb?: string;
  workloads: SelectedWorkload[];
  diskSize: Quantity;
  containerDiskImage: string;
  /** The guest profile: --guest-os, else implied by a well-known containerdisk image, else fedora. */
  guestOs: GuestOsName;
  /**
   * The boot image is a golden image of the guest OS (images/golden/): every built-in
   * workload's packages are in it, so the user-data installs nothing.
   */
  goldenImage: boolean;
  storageClass?: string;
  /** VM shape for real clusters (README "VM shape on a real cluster"). */
  evictionStrategy: EvictionStrategy;
  rng: boolean;
  dryRun: DryRunMode;
  wait: boolean;
  timeoutSeconds: number;
  /** What the wait waits for. */
  waitFor: "running" | "ready";
  /** How long a VM may stay unschedulable before the wait fails. */
  unschedulableGraceSeconds: number;
  /** Present only when SSH credentials (password or keys) were given. */
  ssh?: SshAccess;
  vmConcurrency: number;
  qps: number;
  burst: number;
  output: OutputFormat;
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
  /** The kubeconfig context's (or pod's) namespace, when none is given (default: the file system). */
  contextNamespace?: typeof contextNamespace;
  /**
   * Opens the catalog directory, whose entries are then loaded as they are named. Plan
   * preparation (and every command that accepts catalog names) passes the real one
   * (workloads/catalog/source.ts); without it only the built-ins are known.
   */
  openCatalog?: (dir: string, origin: string) => CatalogSource;
}

export interface LoadResult {
  config: Config;
  warnings: string[];
  /** The built-ins plus every catalog entry that was loaded: what `plan` needs. */
  registry: Registry;
  catalog: CatalogSource;
}

/**
 * The run's configuration from flags, env, config file and defaults: global settings
 * (layers.ts), the workloads it may name (known-workloads.ts), per-workload settings and
 * params (workload-settings.ts), and the selection (selection.ts). Every problem is reported
 * at once, in one UsageError.
 */
export function loadConfig(input: LoadInput): LoadResult {
  const { flags, env } = input;
  const readFile = input.readFile ?? ((p: string) => readTextFile(p));
  const warnings: string[] = [];
  const file = openConfigFile(flags, env, readFile);
  const layers = new SettingLayers(flags, env, file);
  const { problems, sources } = layers;
  layers.checkFileKeys();

  // The file's `workloads` is either a list of names or a map of per-workload settings.
  const fileWorkloads = file.values.workloads;
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
    problems.push(`${file.label}: workloads must be a list of names or a map of per-workload settings`);
  }

  const kubeconfig = layers.get("kubeconfig");
  const context = layers.get("context");
  const namespace = resolveNamespace({
    layered: layers.get("namespace"),
    ...(kubeconfig !== undefined ? { kubeconfig } : {}),
    ...(context !== undefined ? { context } : {}),
    env,
    // (kubeconfig files have their own, larger bound: the default reader of contextNamespace)
    ...(input.readFile ? { readFile } : {}),
    sources,
    problems,
    ...(input.contextNamespace ? { lookup: input.contextNamespace } : {}),
  });
  const verbose = layers.get("verbose");
  const logFormat = layers.get("logFormat");
  const audit = layers.get("audit");
  const auditDb = layers.get("auditDb");
  const selection = layers.get("workloads", { value: fileWorkloadList });
  const vmCount = layers.get("vmCount");
  const cpuCores = layers.get("cpuCores");
  const memory = layers.get("memory");
  const diskSize = layers.get("diskSize");
  // The guest OS and the boot image must agree; either alone implies the other.
  const givenImage = layers.get("containerDiskImage");
  const givenGuestOs = layers.get("guestOs");
  const guestChoice = chooseGuest({
    ...(givenImage !== undefined
      ? { image: { value: givenImage, source: sources.containerDiskImage ?? "" } }
      : {}),
    ...(givenGuestOs !== undefined
      ? { guestOs: { value: givenGuestOs, source: sources.guestOs ?? "" } }
      : {}),
  });
  let containerDiskImage = givenImage ?? "";
  let guestOs: GuestOsName = givenGuestOs ?? "fedora";
  if ("problem" in guestChoice) problems.push(guestChoice.problem);
  else {
    ({ image: containerDiskImage, guestOs } = guestChoice);
    sources.containerDiskImage = guestChoice.imageSource;
    sources.guestOs = guestChoice.guestOsSource;
  }
  const goldenImage = layers.get("goldenImage");
  if (goldenImage && givenImage === undefined) {
    problems.push(
      `${sources.goldenImage}: a golden image must be named: give --container-disk-image <your golden ${guestOs} image> (images/golden/README.md), or drop --golden-image (the guest OS's stock containerdisk installs the packages at boot)`,
    );
  } else if (goldenImage && givenImage !== undefined && isStockImage(givenImage)) {
    problems.push(
      `${sources.goldenImage}: ${sources.containerDiskImage} "${givenImage}" is a stock containerdisk without the workload packages; give your golden image (images/golden/README.md), or drop --golden-image`,
    );
  }
  const storageClass = layers.get("storageClass");
  const evictionStrategy = layers.get("evictionStrategy");
  const cpuRequest = layers.get("cpuRequest");
  const terminationGracePeriod = layers.get("terminationGracePeriod");
  const rng = layers.get("rng");
  const dryRun = layers.get("dryRun");
  const wait = layers.get("wait");
  const timeoutSeconds = layers.get("timeout");
  const unschedulableGraceSeconds = layers.get("unschedulableGrace");
  const waitFor = layers.get("waitFor");
  const sshUser = layers.get("sshUser");
  const sshPassword = readPassword(
    layers.get("sshPassword"),
    layers.get("sshPasswordFile"),
    sources,
    readFile,
    problems,
    warnings,
  );
  const sshKeys = layers.get("sshAuthorizedKeys") ?? [];
  const sshKeyFiles = layers.get("sshKeyFiles") ?? [];
  const vmConcurrency = layers.get("vmConcurrency");
  const qps = layers.get("qps");
  const burst = layers.get("burst");
  const output = layers.get("output");
  const catalogDir = layers.get("catalogDir");
  const fromCatalog = layers.get("fromCatalog") ?? [];
  const catalog = (input.openCatalog ?? noCatalog)(catalogDir, sources.catalogDir ?? "default");
  sshKeys.push(...readKeyFiles(sshKeyFiles, readFile, sources.sshKeyFiles, problems));

  const workloads = new KnownWorkloads(input.registry, catalog, problems);
  const given = collectWorkloadSettings(
    { flags, env, file, fileWorkloads: fileWorkloadMap, workloads },
    problems,
  );
  checkWorkloadEnv(env, given.workloadEnv, problems);
  const overrides = parseOverrides(given.fields, problems);
  const names = selectWorkloads(
    {
      list: selection,
      listSource: sources.workloads,
      fromCatalog,
      fromCatalogSource: sources.fromCatalog,
      overrides,
      workloads,
    },
    problems,
  );

  // A param given for this invocation (flag, env) to a workload that does not run is a
  // mistake; a config file may hold params of every workload it knows, selected or not.
  if (names.length) {
    for (const [name, source] of given.explicitParams) {
      if (names.includes(name) || !workloads.registry.has(name)) continue;
      const how = input.registry.has(name) ? `--workloads ${name}` : `--from-catalog ${name}`;
      problems.push(`${source}: workload "${name}" is not selected; select it with ${how} or drop the param`);
    }
  }
  // Params of every workload mentioned are checked, selected or not, so typos never pass.
  const resolvedParams = new Map<string, Record<string, string>>();
  for (const name of new Set([...names, ...given.params.keys()])) {
    if (workloads.catalogNames.includes(name)) workloads.load(name);
    const workload = workloads.registry.get(name);
    if (!workload) continue;
    const result = resolveParams(name, workload.params, given.params.get(name) ?? {});
    problems.push(...result.problems);
    resolvedParams.set(name, result.params);
  }

  if (sshPassword === undefined && sshKeys.length === 0 && sources.sshUser !== "default") {
    warnings.push(`${sources.sshUser}: no guest user is created without --ssh-password or --ssh-key`);
  }

  layers.throwProblems();

  const config: Config = {
    namespace,
    verbose,
    audit,
    workloads: names.map((name) => {
      const s = overrides.get(name) ?? {};
      const selected: SelectedWorkload = {
        name,
        vmCount: s["vm-count"] ?? vmCount,
        cpuCores: s["cpu-cores"] ?? cpuCores,
        memory: s.memory ?? memory,
        cpuRequest: s["cpu-request"] ?? cpuRequest,
        params: resolvedParams.get(name) ?? {},
      };
      // A workload's own grace period beats the global one, which beats the workload's need.
      const grace = s["termination-grace-period"] ?? terminationGracePeriod;
      if (grace !== undefined) selected.terminationGracePeriodSeconds = grace;
      return selected;
    }),
    diskSize,
    containerDiskImage,
    guestOs,
    goldenImage,
    evictionStrategy,
    rng,
    dryRun,
    wait,
    timeoutSeconds,
    unschedulableGraceSeconds,
    waitFor,
    vmConcurrency,
    qps,
    burst,
    output,
    sources,
    catalogDir,
  };
  if (kubeconfig !== undefined) config.kubeconfig = kubeconfig;
  if (logFormat !== undefined) config.logFormat = logFormat;
  if (context !== undefined) config.context = context;
  if (auditDb !== undefined) config.auditDb = auditDb;
  if (storageClass !== undefined) config.storageClass = storageClass;
  if (file.path) config.configFile = file.path;
  if (sshPassword !== undefined || sshKeys.length) {
    config.ssh = { user: sshUser, authorizedKeys: [...new Set(sshKeys)] };
    // Hashed here, once: from now on only the salted hash exists (Secret, dry-run, audit).
    if (sshPassword !== undefined) config.ssh.passwordHash = hashPassword(sshPassword);
  }
  return { config, warnings, registry: workloads.registry, catalog };
}

/** The public keys in --ssh-key-file files (comments and blank lines skipped). */
function readKeyFiles(
  paths: string[],
  readFile: (path: string) => string,
  source: string | undefined,
  problems: string[],
): string[] {
  const keys: string[] = [];
  for (const keyFile of paths) {
    try {
      const text = readFile(keyFile).trim();
      if (text !== "")
        keys.push(...asPublicKeys(text.split("\n").filter((l) => l.trim() && !l.startsWith("#"))));
    } catch (err) {
      const reason =
        err instanceof ValueProblem
          ? err.message
          : (err as NodeJS.ErrnoException).code === "ENOENT"
            ? "no such file"
            : (err as Error).message;
      problems.push(`${source}: ${keyFile}: ${reason}`);
    }
  }
  return keys;
}

/** No catalog: no entries; naming one says how to get it. */
function noCatalog(dir: string, origin: string): CatalogSource {
  return {
    dir,
    origin,
    exists: () => false,
    names: () => [],
    load: (name) => {
      throw new UsageError(`catalog entry "${name}": this command does not read the catalog (${dir})`);
    },
  };
}
