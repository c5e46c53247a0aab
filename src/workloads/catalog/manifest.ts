import { type Document, isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { dns1123LabelProblem } from "../../manifests/names.ts";
import { Quantity } from "../../util/quantity.ts";
import { didYouMean } from "../../util/suggest.ts";
import { keepScalarSource } from "../../util/yaml-source.ts";
import { checkType } from "../params.ts";
import type { Signal } from "../signals.ts";
import type { ParamType } from "../types.ts";
import { compilePattern, INT_LIMIT, type ParamRules, paramCheck, unsafeValueProblem } from "./param-rules.ts";
import { type FieldPath, formatPath, type Problem, show } from "./problems.ts";
import { parseSignals } from "./signals.ts";

/** `workload.yaml`, validated (reference §9.2, made strict: unknown keys are errors). */
export interface Manifest {
  description: string;
  packages: string[];
  params: ManifestParam[];
  /** Empty for a single-role entry; one or more roles make the entry multi-role. */
  roles: ManifestRole[];
  storage: ManifestStorage[];
  service?: ManifestService;
  /** What `virtwork verify` checks (catalog/signals.ts); none when absent. */
  signals?: Signal[];
}

export interface ManifestParam extends ParamRules {
  key: string;
  type: ParamType;
  default: string;
  description: string;
}

export interface ManifestRole {
  name: string;
  /** 0 → the workload's vm-count. */
  vmCount: number;
}

export interface ManifestStorage {
  name: string;
  /** Absent → the run's --disk-size. */
  size?: string;
  serial: string;
  mount: string;
  /** Roles whose VMs get the disk; absent → every VM of the entry. */
  roles?: string[];
}

export interface ManifestPort {
  name: string;
  port: number;
  protocol: "TCP" | "UDP";
}

export interface ManifestService {
  ports: ManifestPort[];
  selectorRole?: string;
}

export const PARAM_TYPES: readonly ParamType[] = ["string", "int", "bool", "list", "dict"];
/** Disk names the VM spec already uses. */
export const RESERVED_DISK_NAMES = ["containerdisk", "cloudinitdisk", "datadisk"];
/** virtio-blk serials longer than this are cut by the hypervisor, so by-id lookups fail. */
export const MAX_SERIAL = 20;
/** Param keys: usable in --params, env, YAML (where `_` means `-`) and `{{key}}`. */
export const PARAM_KEY = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const SERIAL = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const MOUNT = /^\/[A-Za-z0-9._/-]*$/;
const PACKAGE = /^[A-Za-z0-9][A-Za-z0-9._+:~@-]*$/;
/** Kubernetes port names (IANA_SVC_NAME). */
const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
/** Smallest disk worth creating; CDI and mkfs.xfs need some room. */
const MIN_DISK_BYTES = 300 * 1024 * 1024;
const MAX_VM_COUNT = 10000;

const TOP_KEYS = ["description", "packages", "params", "roles", "storage", "service", "signals"];
const PARAM_KEYS = ["key", "type", "default", "desc", "description", "min", "max", "enum", "pattern"];
const ROLE_KEYS = ["name", "vm-count"];
const STORAGE_KEYS = ["name", "size", "serial", "mount", "roles"];
const SERVICE_KEYS = ["ports", "selector-role"];
const PORT_KEYS = ["name", "port", "protocol"];

type Fields = Map<string, { value: unknown; path: FieldPath }>;

/** Checks values and remembers where each problem is, so errors name the line and field. */
class Checker {
  readonly problems: Problem[] = [];
  private readonly file: string;
  private readonly doc: Document | undefined;
  private readonly lines: LineCounter | undefined;

  constructor(file: string, doc?: Document, lines?: LineCounter) {
    this.file = file;
    this.doc = doc;
    this.lines = lines;
  }

  /** The line of the deepest node on `path` that exists in the document. */
  lineOf(path: FieldPath): number | undefined {
    if (!this.doc || !this.lines) return undefined;
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true);
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range) return this.lines.linePos(range[0]).line;
    }
    return undefined;
  }

  add(path: FieldPath, message: string): void {
    const problem: Problem = { file: this.file, message };
    const line = this.lineOf(path);
    if (line !== undefined) problem.line = line;
    if (path.length) problem.field = formatPath(path);
    this.problems.push(problem);
  }

  /**
   * The fields of a map, keyed by their canonical (hyphenated) name; unknown keys and a key
   * given in both spellings are problems. Each value comes with the path of its raw key.
   */
  fields(value: unknown, path: FieldPath, allowed: string[]): Fields | undefined {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      this.add(path, `must be a map with keys ${allowed.join(", ")}, got ${show(value)}`);
      return undefined;
    }
    const out: Fields = new Map();
    for (const [raw, v] of Object.entries(value)) {
      const key = raw.replace(/_/g, "-");
      if (!allowed.includes(key)) {
        this.add([...path, raw], `unknown key${didYouMean(key, allowed)}; allowed: ${allowed.join(", ")}`);
      } else if (out.has(key)) {
        this.add([...path, raw], `"${key}" is given twice (with "-" and "_")`);
      } else {
        out.set(key, { value: v, path: [...path, raw] });
      }
    }
    return out;
  }

  list(value: unknown, path: FieldPath, what: string): unknown[] {
    if (value === null || value === undefined) return [];
    if (!Array.isArray(value)) {
      this.add(path, `must be a list of ${what}, got ${show(value)}`);
      return [];
    }
    return value;
  }

  string(value: unknown, path: FieldPath, rule?: { pattern: RegExp; hint: string }): string | undefined {
    if (typeof value !== "string") {
      this.add(
        path,
        value === null || value === undefined ? "is required" : `must be a string, got ${show(value)}`,
      );
      return undefined;
    }
    if (value.trim() === "") {
      this.add(path, "must not be empty");
      return undefined;
    }
    if (rule && !rule.pattern.test(value)) {
      this.add(path, `${show(value)} must be ${rule.hint}`);
      return undefined;
    }
    return value;
  }

  int(value: unknown, path: FieldPath, min: number, max: number): number | undefined {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      this.add(path, `must be a whole number between ${min} and ${max}, got ${show(value)}`);
      return undefined;
    }
    if (value < min || value > max) {
      this.add(path, `must be between ${min} and ${max}, got ${value}`);
      return undefined;
    }
    return value;
  }

  dnsLabel(value: unknown, path: FieldPath): string | undefined {
    const text = this.string(value, path);
    if (text === undefined) return undefined;
    const problem = dns1123LabelProblem(text);
    if (problem) {
      this.add(path, `${show(text)} ${problem}`);
      return undefined;
    }
    return text;
  }
}

/** Where a catalog data disk may be mounted: a directory of its own below one of these. */
export const MOUNT_ROOTS = ["/mnt", "/srv", "/opt", "/var/lib"];
/**
 * /var/lib directories the guest OS keeps its own state in (package databases, systemd,
 * cloud-init, networking): a disk mounted over one hides it.
 */
const OS_STATE_DIRS = new Set([
  ...["dpkg", "apt", "rpm", "dnf", "yum", "rpm-state", "PackageKit", "ucf", "systemd", "cloud", "dbus"],
  ...["polkit-1", "NetworkManager", "dhcp", "dhclient", "sss", "private", "machines", "portables"],
  ...["alternatives", "selinux", "authselect", "logrotate", "chrony", "sudo", "pam", "misc", "snapd"],
  ...["containers", "initramfs-tools", "os-prober", "ubuntu-advantage", "update-notifier", "qemu-ga"],
]);

/**
 * What is wrong with a data-disk mount point (already an absolute path without . or ..):
 * it must be below /mnt, /srv, /opt or /var/lib/<name>, never over a directory the OS needs
 * (/, /etc, /usr, /boot, /var, /proc, /sys, /dev, /run, /root, /home, …).
 */
export function mountProblem(mount: string): string | undefined {
  const root = MOUNT_ROOTS.find((r) => mount.startsWith(`${r}/`));
  const allowed = `must be a directory below ${MOUNT_ROOTS.slice(0, -1).join(", ")} or /var/lib/<name> (e.g. /var/lib/redis or /mnt/data), never a system directory`;
  if (!root) return allowed;
  const first = mount.slice(root.length + 1).split("/")[0] ?? "";
  if (root === "/var/lib" && OS_STATE_DIRS.has(first)) {
    return `would hide /var/lib/${first}, where the guest OS keeps its own state; ${allowed}`;
  }
  return undefined;
}

/** No control characters: values end up inside unit files, one setting per line. */
export function paramValueProblem(value: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
  return /[\u0000-\u001f\u007f]/.test(value) ? "must not contain newlines or control characters" : undefined;
}

/** Names other schemas use for our types. */
const TYPE_SYNONYMS: Record<string, ParamType> = {
  integer: "int",
  number: "int",
  boolean: "bool",
  str: "string",
  text: "string",
  array: "list",
  map: "dict",
  object: "dict",
};

function typeHint(type: string): string {
  const key = type.toLowerCase();
  const synonym = Object.hasOwn(TYPE_SYNONYMS, key) ? TYPE_SYNONYMS[key] : undefined;
  return synonym ? ` (did you mean "${synonym}"?)` : didYouMean(type, PARAM_TYPES);
}

function parseParam(c: Checker, raw: unknown, path: FieldPath, seen: Set<string>): ManifestParam | undefined {
  const f = c.fields(raw, path, PARAM_KEYS);
  if (!f) return undefined;
  const keyField = f.get("key");
  const key = c.string(keyField?.value, keyField?.path ?? [...path, "key"], {
    pattern: PARAM_KEY,
    hint: "lower-case letters, digits and '-' (e.g. test-duration)",
  });
  if (key !== undefined) {
    if (seen.has(key)) c.add(keyField?.path ?? path, `duplicate param "${key}"`);
    seen.add(key);
  }
  let type: ParamType = "string";
  const typeField = f.get("type");
  if (typeField && typeField.value !== null) {
    const text = typeof typeField.value === "string" ? typeField.value.toLowerCase() : undefined;
    if (text !== undefined && (PARAM_TYPES as string[]).includes(text)) type = text as ParamType;
    else {
      c.add(
        typeField.path,
        `unknown type ${show(typeField.value)}${typeHint(String(typeField.value))}; types: ${PARAM_TYPES.join(", ")}`,
      );
      return undefined;
    }
  }
  const rules = parseRules(c, f, type, path);
  if (!rules) return undefined;
  const defaultField = f.get("default");
  const defaultPath = defaultField?.path ?? [...path, "default"];
  const rawDefault = defaultField?.value;
  let value: string | undefined;
  if (rawDefault === undefined || rawDefault === null) {
    c.add(defaultPath, `is required (a ${type} value used when the user gives none)`);
  } else if (typeof rawDefault === "object") {
    c.add(
      defaultPath,
      `must be a single value, got ${show(rawDefault)}${type === "list" || type === "dict" ? ` (write a ${type} as "a;b;c")` : ""}`,
    );
  } else {
    value = String(rawDefault);
    const problem = checkType(type, value) ?? paramValueProblem(value) ?? paramCheck(rules)(value);
    if (problem) {
      c.add(defaultPath, `${show(value)} ${problem} (type ${type})`);
      value = undefined;
    } else if (type === "int") value = BigInt(value).toString(); // `010` is octal to the guest's bash
  }
  const desc = f.get("desc") ?? f.get("description");
  if (f.has("desc") && f.has("description")) c.add(desc?.path ?? path, 'give either "desc" or "description"');
  let description = "";
  if (desc && desc.value !== null) {
    if (typeof desc.value === "string") description = desc.value.trim().replace(/\s+/g, " ");
    else c.add(desc.path, `must be a string, got ${show(desc.value)}`);
  }
  if (key === undefined || value === undefined) return undefined;
  return { ...rules, key, type, default: value, description };
}

/** min/max (int), enum or pattern (string): each only where its type can use it. */
function parseRules(c: Checker, f: Fields, type: ParamType, path: FieldPath): ParamRules | undefined {
  const rules: ParamRules = { type };
  const before = c.problems.length;
  for (const bound of ["min", "max"] as const) {
    const field = f.get(bound);
    if (!field || field.value === null) continue;
    if (type !== "int") c.add(field.path, `only int params take ${bound} (this one is ${type})`);
    else {
      const n = c.int(field.value, field.path, -INT_LIMIT, INT_LIMIT);
      if (n !== undefined) rules[bound] = n;
    }
  }
  if (rules.min !== undefined && rules.max !== undefined && rules.min > rules.max) {
    c.add(f.get("max")?.path ?? path, `max ${rules.max} is below min ${rules.min}`);
  }
  const enumField = f.get("enum");
  const patternField = f.get("pattern");
  if (enumField && patternField) c.add(patternField.path, 'give either "enum" or "pattern", not both');
  if (enumField && enumField.value !== null) {
    if (type !== "string") c.add(enumField.path, `only string params take enum (this one is ${type})`);
    else if (!Array.isArray(enumField.value) || enumField.value.length === 0) {
      c.add(enumField.path, `must be a non-empty list of allowed values, got ${show(enumField.value)}`);
    } else {
      const values: string[] = [];
      for (const [i, raw] of enumField.value.entries()) {
        const text = typeof raw === "string" || typeof raw === "number" ? String(raw) : undefined;
        const problem = text === undefined ? `must be a string, got ${show(raw)}` : unsafeValueProblem(text);
        if (problem || text === undefined) c.add([...enumField.path, i], `${show(raw)} ${problem}`);
        else if (values.includes(text)) c.add([...enumField.path, i], `${show(text)} is listed twice`);
        else values.push(text);
      }
      rules.enum = values;
    }
  }
  if (patternField && patternField.value !== null) {
    if (type !== "string") c.add(patternField.path, `only string params take pattern (this one is ${type})`);
    else if (typeof patternField.value !== "string" || patternField.value === "") {
      c.add(patternField.path, `must be a regular expression, got ${show(patternField.value)}`);
    } else {
      try {
        compilePattern(patternField.value);
        rules.pattern = patternField.value;
      } catch (err) {
        c.add(patternField.path, `is not a valid regular expression: ${(err as Error).message}`);
      }
    }
  }
  return c.problems.length === before ? rules : undefined;
}

function parseStorageRoles(c: Checker, field: { value: unknown; path: FieldPath }, declared: Set<string>) {
  const names = c.list(field.value, field.path, "role names");
  if (Array.isArray(field.value) && names.length === 0) {
    c.add(field.path, "must name at least one role; leave roles out to give the disk to every VM");
    return undefined;
  }
  if (names.length && declared.size === 0) {
    c.add(field.path, "names roles, but the entry declares no roles (remove it, or add roles)");
    return undefined;
  }
  const roles: string[] = [];
  for (const [i, name] of names.entries()) {
    const at = [...field.path, i];
    const role = c.string(name, at);
    if (role === undefined) continue;
    if (!declared.has(role)) {
      c.add(
        at,
        `${show(role)} is not a declared role${didYouMean(role, declared)}; roles: ${[...declared].join(", ")}`,
      );
    } else if (roles.includes(role)) c.add(at, `role ${show(role)} is named twice`);
    else roles.push(role);
  }
  return roles.length === names.length ? roles : undefined;
}

function parseStorage(
  c: Checker,
  raw: unknown,
  path: FieldPath,
  seen: Map<string, Set<string>>,
  declaredRoles: Set<string>,
) {
  const f = c.fields(raw, path, STORAGE_KEYS);
  if (!f) return undefined;
  const rolesField = f.get("roles");
  const roles =
    rolesField && rolesField.value !== null ? parseStorageRoles(c, rolesField, declaredRoles) : undefined;
  const unique = (what: string, value: string | undefined, at: FieldPath) => {
    if (value === undefined) return;
    const set = seen.get(what) ?? new Set();
    if (set.has(value)) c.add(at, `duplicate storage ${what} ${show(value)}`);
    set.add(value);
    seen.set(what, set);
  };
  const nameAt = f.get("name")?.path ?? [...path, "name"];
  let name = c.dnsLabel(f.get("name")?.value, nameAt);
  if (name !== undefined && RESERVED_DISK_NAMES.includes(name)) {
    c.add(nameAt, `${show(name)} is reserved for the VM's own disks (${RESERVED_DISK_NAMES.join(", ")})`);
    name = undefined;
  }
  unique("name", name, nameAt);
  let size: string | undefined;
  const sizeField = f.get("size");
  if (sizeField && sizeField.value !== null) {
    const text = typeof sizeField.value === "number" ? String(sizeField.value) : sizeField.value;
    if (typeof text !== "string" || text.trim() === "") {
      c.add(sizeField.path, `must be a size such as 10Gi, got ${show(sizeField.value)}`);
    } else {
      const q = Quantity.parseSize(text, MIN_DISK_BYTES);
      if (q instanceof Quantity) size = q.text;
      else c.add(sizeField.path, `${q.problem.replace(`${MIN_DISK_BYTES} bytes`, "300Mi")}`);
    }
  }
  const serialAt = f.get("serial")?.path ?? [...path, "serial"];
  let serial = c.string(f.get("serial")?.value, serialAt, {
    pattern: SERIAL,
    hint: "letters, digits, '-' and '_' (the guest finds the disk at /dev/disk/by-id/virtio-<serial>)",
  });
  if (serial !== undefined && serial.length > MAX_SERIAL) {
    c.add(
      serialAt,
      `${show(serial)} is ${serial.length} characters; virtio serials hold at most ${MAX_SERIAL}`,
    );
    serial = undefined;
  }
  unique("serial", serial, serialAt);
  const mountAt = f.get("mount")?.path ?? [...path, "mount"];
  let mount = c.string(f.get("mount")?.value, mountAt, {
    pattern: MOUNT,
    hint: "an absolute path of letters, digits, '.', '_', '-' and '/' (e.g. /var/lib/redis)",
  });
  if (mount !== undefined) {
    mount = mount.length > 1 ? mount.replace(/\/+$/, "") : mount;
    if (mount === "/" || mount.split("/").some((part) => part === "." || part === "..")) {
      c.add(mountAt, `${show(mount)} must be a directory below / without "." or ".." parts`);
      mount = undefined;
    } else {
      const problem = mountProblem(mount);
      if (problem) {
        c.add(mountAt, `${show(mount)} ${problem}`);
        mount = undefined;
      }
    }
  }
  unique("mount", mount, mountAt);
  if (name === undefined || serial === undefined || mount === undefined) return undefined;
  const storage: ManifestStorage = { name, serial, mount };
  if (size !== undefined) storage.size = size;
  if (roles !== undefined) storage.roles = roles;
  return storage;
}

function parseService(c: Checker, raw: unknown, path: FieldPath): ManifestService | undefined {
  const f = c.fields(raw, path, SERVICE_KEYS);
  if (!f) return undefined;
  const portsAt = f.get("ports")?.path ?? [...path, "ports"];
  const rawPorts = c.list(f.get("ports")?.value, portsAt, "ports ({name, port, protocol})");
  if (rawPorts.length === 0 && Array.isArray(f.get("ports")?.value ?? [])) {
    c.add(portsAt, "must declare at least one port (e.g. - {name: http, port: 80})");
  }
  const ports: ManifestPort[] = [];
  const names = new Set<string>();
  const numbers = new Set<string>();
  for (const [i, rawPort] of rawPorts.entries()) {
    const at = [...portsAt, i];
    const pf = c.fields(rawPort, at, PORT_KEYS);
    if (!pf) continue;
    const nameAt = pf.get("name")?.path ?? [...at, "name"];
    const name = c.string(pf.get("name")?.value, nameAt, {
      pattern: PORT_NAME,
      hint: "a port name: lower-case letters, digits and '-', with a letter (e.g. http)",
    });
    if (name !== undefined && name.length > 15) c.add(nameAt, `${show(name)} is longer than 15 characters`);
    if (name !== undefined && names.has(name)) c.add(nameAt, `duplicate port name ${show(name)}`);
    if (name !== undefined) names.add(name);
    const portAt = pf.get("port")?.path ?? [...at, "port"];
    const port = c.int(pf.get("port")?.value, portAt, 1, 65535);
    let protocol: "TCP" | "UDP" = "TCP";
    const protoField = pf.get("protocol");
    if (protoField && protoField.value !== null) {
      const text = typeof protoField.value === "string" ? protoField.value.toUpperCase() : "";
      if (text === "TCP" || text === "UDP") protocol = text;
      else c.add(protoField.path, `must be TCP or UDP, got ${show(protoField.value)}`);
    }
    if (port !== undefined) {
      const id = `${port}/${protocol}`;
      if (numbers.has(id)) c.add(portAt, `port ${id} is declared twice`);
      numbers.add(id);
    }
    if (name !== undefined && port !== undefined) ports.push({ name, port, protocol });
  }
  const service: ManifestService = { ports };
  const role = f.get("selector-role");
  if (role && role.value !== null) {
    const name = c.dnsLabel(role.value, role.path);
    if (name !== undefined) service.selectorRole = name;
  }
  return service;
}

/** Validates a parsed manifest value; `c` knows the document for line numbers. */
function validate(c: Checker, value: unknown): Manifest | undefined {
  const manifest: Manifest = { description: "", packages: [], params: [], roles: [], storage: [] };
  if (value === null || value === undefined) return manifest;
  const f = c.fields(value, [], TOP_KEYS);
  if (!f) return undefined;

  const description = f.get("description");
  if (description && description.value !== null) {
    if (typeof description.value === "string")
      manifest.description = description.value.trim().replace(/\s+/g, " ");
    else c.add(description.path, `must be a string, got ${show(description.value)}`);
  }

  const packagesAt = f.get("packages")?.path ?? ["packages"];
  const seenPackages = new Set<string>();
  for (const [i, p] of c.list(f.get("packages")?.value, packagesAt, "package names").entries()) {
    const name = c.string(p, [...packagesAt, i], {
      pattern: PACKAGE,
      hint: "a package name (letters, digits and ._+:~@-)",
    });
    if (name === undefined) continue;
    if (seenPackages.has(name)) c.add([...packagesAt, i], `package ${show(name)} is listed twice`);
    seenPackages.add(name);
    manifest.packages.push(name);
  }

  const paramsAt = f.get("params")?.path ?? ["params"];
  const seenParams = new Set<string>();
  for (const [i, p] of c
    .list(f.get("params")?.value, paramsAt, "params ({key, type, default, desc})")
    .entries()) {
    const param = parseParam(c, p, [...paramsAt, i], seenParams);
    if (param) manifest.params.push(param);
  }

  const rolesField = f.get("roles");
  const rolesAt = rolesField?.path ?? ["roles"];
  const rawRoles = c.list(rolesField?.value, rolesAt, "roles ({name, vm-count})");
  if (Array.isArray(rolesField?.value) && rawRoles.length === 0) {
    c.add(rolesAt, "must declare at least one role; leave roles out for a single-role entry");
  }
  const seenRoles = new Set<string>();
  for (const [i, r] of rawRoles.entries()) {
    const at = [...rolesAt, i];
    const rf = c.fields(r, at, ROLE_KEYS);
    if (!rf) continue;
    const nameAt = rf.get("name")?.path ?? [...at, "name"];
    const name = c.dnsLabel(rf.get("name")?.value, nameAt);
    if (name !== undefined && seenRoles.has(name)) c.add(nameAt, `duplicate role ${show(name)}`);
    if (name !== undefined) seenRoles.add(name);
    const countField = rf.get("vm-count");
    let vmCount: number | undefined = 0;
    if (countField && countField.value !== null)
      vmCount = c.int(countField.value, countField.path, 0, MAX_VM_COUNT);
    if (name !== undefined && vmCount !== undefined) manifest.roles.push({ name, vmCount });
  }

  const storageAt = f.get("storage")?.path ?? ["storage"];
  const seenStorage = new Map<string, Set<string>>();
  for (const [i, s] of c
    .list(f.get("storage")?.value, storageAt, "disks ({name, size, serial, mount, roles})")
    .entries()) {
    const storage = parseStorage(c, s, [...storageAt, i], seenStorage, seenRoles);
    if (storage) manifest.storage.push(storage);
  }

  const serviceField = f.get("service");
  if (serviceField && serviceField.value !== null) {
    const service = parseService(c, serviceField.value, serviceField.path);
    if (service) {
      const role = service.selectorRole;
      const roleAt = [...serviceField.path, "selector-role"];
      if (role !== undefined && manifest.roles.length === 0 && rawRoles.length === 0) {
        c.add(
          roleAt,
          `${show(role)} selects a role, but the entry declares no roles (remove it, or add roles)`,
        );
      } else if (role !== undefined && rawRoles.length && !seenRoles.has(role)) {
        c.add(
          roleAt,
          `${show(role)} is not a declared role${didYouMean(role, seenRoles)}; roles: ${[...seenRoles].join(", ")}`,
        );
      }
      manifest.service = service;
    }
  }
  const signalsField = f.get("signals");
  if (signalsField && signalsField.value !== null) {
    manifest.signals = parseSignals(c, signalsField.value, signalsField.path, seenRoles);
  }
  return c.problems.length ? undefined : manifest;
}

/** Parses and validates `workload.yaml` text; `file` is how errors name it. */
export interface ParsedManifest {
  manifest?: Manifest;
  problems: Problem[];
  /** Line of a field, for problems found later (a role without its unit file). */
  lineOf: (path: FieldPath) => number | undefined;
}

export function parseManifest(text: string, file: string): ParsedManifest {
  const none = () => undefined;
  const lines = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, {
      lineCounter: lines,
      uniqueKeys: true,
      prettyErrors: false,
    });
  } catch (err) {
    return {
      problems: [{ file, message: `malformed YAML: ${(err as Error).message.split("\n")[0]}` }],
      lineOf: none,
    };
  }
  const [first] = [...doc.errors, ...doc.warnings];
  if (first) {
    const problem: Problem = { file, message: `malformed YAML: ${first.message.split("\n")[0]}` };
    const at = first.pos?.[0];
    if (at !== undefined) problem.line = lines.linePos(at).line;
    return { problems: [problem], lineOf: none };
  }
  const c = new Checker(file, doc, lines);
  const lineOf = (path: FieldPath) => c.lineOf(path);
  if (
    doc.contents !== null &&
    !isMap(doc.contents) &&
    !(isScalar(doc.contents) && doc.contents.value === null)
  ) {
    c.add([], `the top level must be a map with keys ${TOP_KEYS.join(", ")}`);
    return { problems: c.problems, lineOf };
  }
  // A param's default is text as the user wrote it (`default: 0123` stays "0123").
  keepScalarSource(doc, (key) => key === "default");
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return {
      problems: [{ file, message: `malformed YAML: ${(err as Error).message.split("\n")[0]}` }],
      lineOf,
    };
  }
  const manifest = validate(c, value);
  return manifest ? { manifest, problems: [], lineOf } : { problems: c.problems, lineOf };
}

/** Validates a manifest given as a plain value (tests, generated manifests). */
export function validateManifestValue(
  value: unknown,
  file: string,
): { manifest?: Manifest; problems: Problem[] } {
  const c = new Checker(file);
  const manifest = validate(c, value);
  return manifest ? { manifest, problems: [] } : { problems: c.problems };
}
