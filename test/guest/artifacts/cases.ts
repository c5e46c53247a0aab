/**
 * Every guest document virtwork can generate for the built-in workloads and the shipped
 * catalog examples (catalog/), rendered the way a
 * run renders it: params go through loadConfig (so only values that pass validation reach a
 * guest), the user-data is taken from the plan's Secrets, and the intended values come from
 * the workload's own build() output.
 */

import { fileURLToPath } from "node:url";
import { renderCloudConfig, type SshAccess } from "../../../src/cloudinit/cloud-config.ts";
import type { GuestConfig } from "../../../src/cloudinit/guest-config.ts";
import { loadConfig } from "../../../src/config/load.ts";
import type { Secret, VirtualMachine } from "../../../src/manifests/objects.ts";
import { plan } from "../../../src/plan/plan.ts";
import { openCatalog } from "../../../src/workloads/catalog/source.ts";
import { GUEST_OS_NAMES, guestProfile } from "../../../src/workloads/guest.ts";
import { checkType } from "../../../src/workloads/params.ts";
import { guestReadiness, withReadiness } from "../../../src/workloads/readiness.ts";
import { BUILTIN_WORKLOADS, createRegistry } from "../../../src/workloads/registry.ts";
import { unitsStartedBy } from "../../../src/workloads/systemd.ts";
import { guestOf, type ParamSpec, type Workload } from "../../../src/workloads/types.ts";

export const registry = createRegistry();
/** The catalog examples shipped with virtwork (catalog/ at the repository root). */
export const CATALOG_DIR = fileURLToPath(new URL("../../../catalog", import.meta.url));

export function catalogWorkloads(): Workload[] {
  const source = openCatalog(CATALOG_DIR, "test");
  return source.names().map((name) => source.load(name));
}
export const NAMESPACE = "virtwork";
export const RUN_ID = "00000000-0000-4000-8000-000000000007";

/** SSH variants: none, and values that YAML 1.1 would misread if they were not quoted. */
export const SSH_VARIANTS: Record<string, Record<string, unknown>> = {
  "no-ssh": {},
  "password+key": {
    "ssh-password": "no",
    "ssh-key": [
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@virtwork",
    ],
  },
  "odd-password": { "ssh-password": "0755", "ssh-user": "on" },
  "quoting-password": { "ssh-password": `p@ss: "w'o#rd" - \\ $HOME \`x\`` },
  "keys-only": {
    "ssh-key": [
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a@b",
      "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 yes",
    ],
  },
};

/** Values that YAML 1.1 turns into booleans, numbers or null when left unquoted. */
export const ODD_VALUES = ["no", "on", "off", "yes", "0755", "08", "1e3", "0x1F", "null", "~", "+5", "010"];
const LOW_CANDIDATES = ["-1", "0", "0.0", "1", "1K", "a", "SIGKILL", "/m"];
const HIGH_CANDIDATES = [
  "100",
  "100.0",
  "128",
  "256",
  "1000",
  "1024",
  "60000",
  "100000",
  "9007199254740991",
  "1024G",
  "SIGSTOP",
  "zero-one",
  "/mnt/a.b_c-d/e",
];

export function accepts(spec: ParamSpec, value: string): boolean {
  return checkType(spec.type, value) === undefined && spec.check?.(value) === undefined;
}

function pick(workload: Workload, candidates: readonly string[], last: boolean): Record<string, string> {
  const params: Record<string, string> = {};
  for (const spec of workload.params) {
    const ok = candidates.filter((v) => accepts(spec, v));
    const value = last ? ok.at(-1) : ok[0];
    if (value !== undefined) params[spec.name] = value;
  }
  return params;
}

/** Param variants of one workload: default, lowest and highest accepted, and each odd value. */
export function paramVariants(workload: Workload): Record<string, Record<string, string>> {
  const variants: Record<string, Record<string, string>> = {
    default: {},
    low: pick(workload, LOW_CANDIDATES, false),
    high: pick(workload, HIGH_CANDIDATES, true),
  };
  for (const odd of ODD_VALUES) {
    const params = pick(workload, [odd], false);
    if (Object.keys(params).length) variants[`odd-${odd}`] = params;
  }
  // Drop variants that render the same params as an earlier one.
  const seen = new Set<string>();
  for (const [name, params] of Object.entries(variants)) {
    const key = JSON.stringify(params);
    if (seen.has(key)) delete variants[name];
    else seen.add(key);
  }
  return variants;
}

export interface RenderedRole {
  /** e.g. `tps/client [odd-0755, no-ssh]` */
  id: string;
  workload: string;
  role?: string;
  variant: string;
  sshVariant: string;
  params: Record<string, string>;
  /** What the workload asked for. */
  guest: GuestConfig;
  ssh?: SshAccess;
  /** The `#cloud-config` text exactly as it is put in the Secret. */
  userdata: string;
}

/** Renders one workload with the given params and SSH flags through config, plan and Secrets. */
export function render(
  workloadName: string,
  params: Record<string, string>,
  sshFlags: Record<string, unknown> = {},
  labels: { variant: string; sshVariant: string } = { variant: "custom", sshVariant: "custom" },
  guestOs: (typeof GUEST_OS_NAMES)[number] = "fedora",
): RenderedRole[] {
  const { config, registry: full } = loadConfig({
    flags: {
      ...(registry.has(workloadName) ? { workloads: workloadName } : { "from-catalog": workloadName }),
      params: Object.entries(params).map(([k, v]) => `${workloadName}.${k}=${v}`),
      "catalog-dir": CATALOG_DIR,
      "guest-os": guestOs,
      ...sshFlags,
    },
    env: {},
    registry,
    openCatalog,
  });
  const workload = full.get(workloadName);
  if (!workload) throw new Error(`no workload ${workloadName}`);
  const selected = config.workloads.find((w) => w.name === workloadName);
  if (!selected) throw new Error(`${workloadName} not selected`);
  const profile = guestProfile(config.guestOs);
  const built = workload.build({ namespace: config.namespace, params: selected.params, guest: profile });
  const p = plan(config, full, { runId: RUN_ID, guest: profile });
  const secrets = new Map(
    p.objects.filter((o): o is Secret => o.kind === "Secret").map((s) => [s.metadata?.name, s]),
  );
  return built.roles.map((r) => {
    const { role } = r;
    // VM 0 of each role; per-VM configs (a client naming its server) differ only in names.
    // The plan adds the guest agent and its setup for the readiness probe (readiness.ts).
    const own = guestOf(r, 0);
    const guest = withReadiness(own, guestReadiness(profile, unitsStartedBy(own.runcmd)));
    const vm = p.vms.find((v) => v.workload === workloadName && v.role === role);
    const userdata = vm && secrets.get(vm.secretName)?.stringData?.userdata;
    if (userdata === undefined) throw new Error(`no Secret for ${workloadName}/${role}`);
    // The plan must ship exactly what the renderer makes of the workload's intent.
    const expected = renderCloudConfig(guest, config.ssh);
    if (expected !== userdata) throw new Error(`${workloadName}/${role}: Secret differs from rendering`);
    return {
      id: `${workloadName}${role ? `/${role}` : ""} [${labels.variant}, ${labels.sshVariant}${guestOs === "fedora" ? "" : `, ${guestOs}`}]`,
      workload: workloadName,
      ...(role !== undefined ? { role } : {}),
      variant: labels.variant,
      sshVariant: labels.sshVariant,
      params: selected.params,
      guest,
      ...(config.ssh ? { ssh: config.ssh } : {}),
      userdata,
    };
  });
}

let cache: RenderedRole[] | undefined;

/**
 * The whole matrix: every workload × param variant with no SSH, plus every SSH variant with
 * default params (SSH only adds the users block, which does not depend on params).
 */
export function allRendered(): RenderedRole[] {
  if (cache) return cache;
  const out: RenderedRole[] = [];
  for (const workload of [...BUILTIN_WORKLOADS, ...catalogWorkloads()]) {
    for (const [variant, params] of Object.entries(paramVariants(workload))) {
      out.push(...render(workload.name, params, {}, { variant, sshVariant: "no-ssh" }));
    }
    for (const [sshVariant, flags] of Object.entries(SSH_VARIANTS)) {
      if (sshVariant === "no-ssh") continue;
      out.push(...render(workload.name, {}, flags, { variant: "default", sshVariant }));
    }
  }
  // The other guest profiles change packages, paths and scripts: each built-in workload with
  // default and highest params (where the differences live), with SSH (the users block).
  for (const guestOs of GUEST_OS_NAMES.filter((g) => g !== "fedora")) {
    for (const workload of BUILTIN_WORKLOADS) {
      const high = paramVariants(workload).high ?? {};
      out.push(...render(workload.name, {}, {}, { variant: "default", sshVariant: "no-ssh" }, guestOs));
      out.push(
        ...render(
          workload.name,
          high,
          SSH_VARIANTS["password+key"],
          { variant: "high", sshVariant: "password+key" },
          guestOs,
        ),
      );
    }
  }
  cache = out;
  return out;
}

/** Distinct files (by path and content) across the matrix, with the first case that made each. */
export function distinctFiles(
  filter: (path: string, content: string) => boolean,
): { path: string; content: string; from: RenderedRole }[] {
  const seen = new Map<string, { path: string; content: string; from: RenderedRole }>();
  for (const r of allRendered()) {
    for (const f of r.guest.files) {
      if (!filter(f.path, f.content)) continue;
      const key = `${f.path}\0${f.content}`;
      if (!seen.has(key)) seen.set(key, { path: f.path, content: f.content, from: r });
    }
  }
  return [...seen.values()];
}

export function vmsOf(p: ReturnType<typeof plan>): VirtualMachine[] {
  return p.objects.filter((o): o is VirtualMachine => o.kind === "VirtualMachine");
}
