import { DNS1123_LABEL_MAX, dns1123LabelProblem, vmName } from "../../manifests/names.ts";
import { didYouMean } from "../../util/suggest.ts";
import { DEBIAN_UNIT_NAMES } from "./guest-units.generated.ts";
import { type Manifest, parseManifest } from "./manifest.ts";
import { findPlaceholders } from "./placeholders.ts";
import { CatalogError, type Problem } from "./problems.ts";

export const MANIFEST_FILE = "workload.yaml";
const UNIT_FILE = /^[A-Za-z0-9][A-Za-z0-9_.-]*\.service$/;

/** An entry's files as read from its directory (or made up by a test). */
export interface EntryFiles {
  name: string;
  /** The entry's directory, as errors should name it (e.g. `catalog/redis-bench`). */
  dir: string;
  /** `workload.yaml` text; absent when the entry has none. */
  manifest?: string;
  /** `*.service` files: file name → text. */
  units: Readonly<Record<string, string>>;
}

export interface UnitFile {
  /** File name, which is also the unit name in the guest. */
  name: string;
  text: string;
}

/** A loaded, validated catalog entry (reference §9), ready to become a Workload. */
export interface CatalogEntry {
  name: string;
  dir: string;
  manifest: Manifest;
  /** Units installed on every VM (single-role), sorted by file name. */
  units: UnitFile[];
  /** Multi-role: role name → its unit (`<role>.service`), in manifest order. */
  roleUnits: Map<string, UnitFile>;
  /** Things that work but are probably mistakes (unused params, unused unit files). */
  warnings: string[];
}

/**
 * Units the guest OS ships (or that keep it reachable and managed). A catalog unit with
 * such a name would replace the system's own in /etc/systemd/system: `sshd.service` could
 * lock everyone out, `nftables.service` drop the firewall, `systemd-*.service` take over the
 * init system. Entries name their units for themselves (e.g. server.service, workload.service).
 *
 * For Debian the set is derived, not listed: every unit any package of the release installs
 * (guest-units.generated.ts, from Debian's Contents index by scripts/gen-guest-units.sh). Fedora
 * and CentOS Stream have no index reachable here, so these families and names stand for them
 * (and for the init system's own, whatever the OS).
 */
const SYSTEM_UNITS = [
  /^sshd?($|-)/,
  /^systemd-/,
  /^(serial-|console-|container-)?getty/,
  /^autovt/,
  /^NetworkManager/,
  /^network(ing|d)?$/,
  /^(dbus|dbus-broker)/,
  /^cloud-/,
  /^cloud-init/,
  /^qemu-guest-agent$/,
  /^(chronyd|chrony|ntpd?|systemd-timesyncd)$/,
  /^(crond|cron|atd|anacron)$/,
  /^(rsyslog|syslog|auditd|polkit|udev.*|firewalld|sssd.*|nscd|logind)$/,
  /^(user|user-runtime-dir)$/,
  /^(emergency|rescue|reboot|poweroff|halt|kexec|shutdown|initrd-.*|dracut-.*)$/,
  /^(dnf|apt|packagekit|unattended-upgrades|snapd|rpm-ostree|fwupd).*/,
  /^(multipathd|lvm2-.*|dm-event|mdmonitor|kmod.*|ldconfig|rngd|irqbalance|tuned|selinux-.*)$/,
  /^(wpa_supplicant|ModemManager|avahi-daemon|accounts-daemon|rtkit-daemon)$/,
  /^(cryptdisks.*|debug-shell|dpkg-.*|e2scrub.*|fstrim|hwclock|man-db|modprobe|pam_namespace|procps)$/,
  /^(quotaon|rc-local|rc|rcS|system-update-.*|x11-common|plymouth.*|mdadm.*|iscsi.*|nfs-.*|rpcbind)$/,
  /^virtwork-/,
];

/** What is wrong with a catalog unit's file name: a name the guest OS (or virtwork) owns. */
let debianUnits: Set<string> | undefined;

export function unitNameProblem(file: string): string | undefined {
  const base = file.replace(/\.service$/, "");
  debianUnits ??= new Set(DEBIAN_UNIT_NAMES.split("\n").filter(Boolean));
  // (no "@" can reach here: unit file names hold only letters, digits, '.', '_' and '-')
  if (SYSTEM_UNITS.some((re) => re.test(base)) || debianUnits.has(base)) {
    return `"${file}" is the name of a unit the guest OS ships (or virtwork's own); a catalog unit must not replace it: rename it (e.g. server.service)`;
  }
  return undefined;
}

/** What is wrong with an entry's name, or undefined. */
export function entryNameProblem(name: string, builtins: ReadonlySet<string>): string | undefined {
  const dns = dns1123LabelProblem(name);
  if (dns) return `the entry name (its directory name) ${dns}`;
  if (builtins.has(name))
    return `"${name}" is a built-in workload; rename the directory so it does not shadow it`;
  if (name === "all") return `"all" is reserved by --workloads all; rename the directory`;
  // Every object name starts with virtwork-<entry>; the Service name is exactly that.
  const longest = `virtwork-${name}`;
  if (longest.length > DNS1123_LABEL_MAX)
    return `the entry name is too long: "virtwork-${name}" must be at most ${DNS1123_LABEL_MAX} characters`;
  return undefined;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this finds
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

function unitProblems(unit: UnitFile, file: string): { problems: Problem[]; warnings: string[] } {
  const problems: Problem[] = [];
  const warnings: string[] = [];
  if (unit.text.includes("\r")) {
    problems.push({ file, message: "has Windows (CRLF) line endings; systemd needs LF" });
  } else if (CONTROL.test(unit.text)) {
    problems.push({ file, message: "contains control characters; a unit file is plain text" });
  } else if (unit.text.trim() === "") {
    problems.push({ file, message: "is empty; write a systemd unit with [Service] and ExecStart=" });
  } else {
    const lines = unit.text.split("\n").map((l) => l.trim());
    if (!lines.includes("[Service]")) problems.push({ file, message: "has no [Service] section" });
    else if (!lines.some((l) => /^ExecStart\s*=/.test(l)))
      problems.push({ file, message: "has no ExecStart= line; systemd cannot start it" });
    if (!lines.includes("[Install]"))
      warnings.push(
        `${unit.name} has no [Install] section (add WantedBy=multi-user.target to start it at boot)`,
      );
  }
  return { problems, warnings };
}

/** Validates an entry's files; throws a CatalogError naming every problem. */
export function parseEntry(files: EntryFiles, builtins: ReadonlySet<string>): CatalogEntry {
  const { name, dir } = files;
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const nameProblem = entryNameProblem(name, builtins);
  if (nameProblem) throw new CatalogError(name, [{ file: dir, message: nameProblem }]);

  const manifestFile = `${dir}/${MANIFEST_FILE}`;
  let manifest: Manifest = { description: "", packages: [], params: [], roles: [], storage: [] };
  let lineOf: (path: (string | number)[]) => number | undefined = () => undefined;
  if (files.manifest !== undefined) {
    const parsed = parseManifest(files.manifest, manifestFile);
    if (!parsed.manifest) throw new CatalogError(name, parsed.problems);
    manifest = parsed.manifest;
    lineOf = parsed.lineOf;
  }
  const at = (path: (string | number)[], message: string, field: string): Problem => {
    const p: Problem = { file: manifestFile, field, message };
    const line = lineOf(path);
    if (line !== undefined) p.line = line;
    return p;
  };

  const unitNames = Object.keys(files.units).sort();
  const units: UnitFile[] = [];
  for (const unitName of unitNames) {
    const file = `${dir}/${unitName}`;
    if (!UNIT_FILE.test(unitName)) {
      problems.push({ file, message: "unit file names may hold only letters, digits, '.', '_' and '-'" });
      continue;
    }
    const shadow = unitNameProblem(unitName);
    if (shadow) {
      problems.push({ file, message: shadow });
      continue;
    }
    const unit = { name: unitName, text: files.units[unitName] ?? "" };
    const checked = unitProblems(unit, file);
    problems.push(...checked.problems);
    warnings.push(...checked.warnings);
    units.push(unit);
  }
  if (unitNames.length === 0) {
    problems.push({
      file: dir,
      message:
        manifest.roles.length > 0
          ? `no .service files; add one per role (${manifest.roles.map((r) => `${r.name}.service`).join(", ")})`
          : "no .service files; add at least one systemd unit (e.g. workload.service)",
    });
  }

  const roleUnits = new Map<string, UnitFile>();
  for (const [i, role] of manifest.roles.entries()) {
    const unit = units.find((u) => u.name === `${role.name}.service`);
    if (unit) roleUnits.set(role.name, unit);
    else if (unitNames.length > 0)
      problems.push(
        at(
          ["roles", i, "name"],
          `role "${role.name}" has no unit file; create ${dir}/${role.name}.service`,
          `roles[${i}].name`,
        ),
      );
    const longest = vmName(name, 0, role.name);
    if (longest.length > DNS1123_LABEL_MAX)
      problems.push(
        at(
          ["roles", i, "name"],
          `VM names such as "${longest}" would be longer than ${DNS1123_LABEL_MAX} characters; shorten the role or entry name`,
          `roles[${i}].name`,
        ),
      );
  }
  for (const [i, storage] of manifest.storage.entries()) {
    const role = manifest.roles.reduce((a, r) => (r.name.length > a.length ? r.name : a), "");
    const dv = `${storage.name}-${vmName(name, 0, role || undefined)}`;
    if (dv.length > DNS1123_LABEL_MAX)
      problems.push(
        at(
          ["storage", i, "name"],
          `DataVolume names such as "${dv}" would be longer than ${DNS1123_LABEL_MAX} characters; shorten the storage name`,
          `storage[${i}].name`,
        ),
      );
  }

  // Placeholders: in the units that are installed, every one must be a declared param.
  const installed = manifest.roles.length ? [...roleUnits.values()] : units;
  if (manifest.roles.length) {
    for (const unit of units) {
      if (![...roleUnits.values()].includes(unit))
        warnings.push(`${unit.name} matches no declared role and is not installed`);
    }
  }
  const declared = manifest.params.map((p) => p.key);
  const listLike = new Set(
    manifest.params.filter((p) => p.type === "list" || p.type === "dict").map((p) => p.key),
  );
  const used = new Set<string>();
  for (const unit of installed) {
    for (const { key, line, quoted } of findPlaceholders(unit.text)) {
      used.add(key);
      if (listLike.has(key) && !quoted) {
        problems.push({
          file: `${dir}/${unit.name}`,
          line,
          message: `placeholder {{${key}}} of a list/dict param must be written in double quotes ("{{${key}}}"): its ';' would otherwise end a shell command`,
        });
      }
      if (!declared.includes(key)) {
        problems.push({
          file: `${dir}/${unit.name}`,
          line,
          message: `placeholder {{${key}}} is not a declared param${didYouMean(key, declared)}; declare it under params in ${MANIFEST_FILE}`,
        });
      }
    }
  }
  for (const key of declared) {
    if (!used.has(key)) warnings.push(`param "${key}" is not used in any unit file`);
  }
  if (problems.length) throw new CatalogError(name, problems);
  return { name, dir, manifest, units, roleUnits, warnings };
}
