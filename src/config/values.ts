import { closeSync, openSync, readSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dns1123LabelProblem } from "../manifests/names.ts";
import { Quantity } from "../util/quantity.ts";
import { maskUrlCredentials } from "../util/redact.ts";

/**
 * Converters shared by every source: a value may be a string (flag, env) or a YAML scalar
 * or list (config file). Each returns the parsed value or throws a `ValueProblem` that the
 * loader turns into one error line naming the field.
 */
export class ValueProblem extends Error {}

function describe(raw: unknown): string {
  return typeof raw === "string" ? `"${raw}"` : JSON.stringify(raw);
}

/** No setting needs more; a longer value is a mistake (a file pasted into a flag). */
export const MAX_VALUE_LENGTH = 65536;
/** Paths, names and URLs: PATH_MAX. */
export const MAX_NAME_LENGTH = 4096;

function bounded(text: string, max: number): string {
  if (text.length > max) throw new ValueProblem(`is ${text.length} characters long; at most ${max} allowed`);
  return text;
}

export function asString(raw: unknown): string {
  if (typeof raw === "string") return bounded(raw.trim(), MAX_VALUE_LENGTH);
  if (typeof raw === "number") return String(raw);
  throw new ValueProblem(`must be a string, got ${describe(raw)}`);
}

export function asNonEmptyString(raw: unknown): string {
  const s = bounded(asString(raw), MAX_NAME_LENGTH);
  if (s === "") throw new ValueProblem("must not be empty");
  return s;
}

export function asInt(min: number, max = Number.MAX_SAFE_INTEGER): (raw: unknown) => number {
  return (raw) => {
    const text = typeof raw === "number" ? String(raw) : typeof raw === "string" ? raw.trim() : undefined;
    if (text === undefined || !/^[+-]?\d+$/.test(text)) {
      throw new ValueProblem(`must be a whole number, got ${describe(raw)}`);
    }
    const n = Number(text);
    if (n < min || n > max) {
      throw new ValueProblem(
        max === Number.MAX_SAFE_INTEGER
          ? `must be at least ${min}, got ${n}`
          : `must be between ${min} and ${max}, got ${n}`,
      );
    }
    return n;
  };
}

export function asBool(raw: unknown): boolean {
  if (typeof raw === "boolean") return raw;
  if (typeof raw === "string") {
    const s = raw.trim().toLowerCase();
    if (s === "true" || s === "1") return true;
    if (s === "false" || s === "0") return false;
  }
  throw new ValueProblem(`must be true or false, got ${describe(raw)}`);
}

/** A list from a YAML sequence, or a comma-separated string (flags, env). */
export function asList(raw: unknown): string[] {
  const items = Array.isArray(raw)
    ? raw.flatMap((item) => asString(item).split(","))
    : asString(raw).split(",");
  return items.map((item) => item.trim()).filter((item) => item !== "");
}

/** A byte size (a data disk); stays a Quantity from here on. */
/** A list that, when given at all, names something (`--from-catalog ""` is a mistake). */
export function asNonEmptyList(raw: unknown): string[] {
  const items = asList(raw);
  if (items.length === 0) throw new ValueProblem("must not be empty: name at least one");
  return items;
}

export function asQuantity(raw: unknown): Quantity {
  const text = asNonEmptyString(raw);
  const parsed = Quantity.parseSize(text);
  if (!(parsed instanceof Quantity)) throw new ValueProblem(parsed.problem);
  return parsed;
}

/** A VM's memory: at least 1Mi; stays a Quantity from here on. */
export function asMemory(raw: unknown): Quantity {
  const text = asNonEmptyString(raw);
  const parsed = Quantity.parseSize(text, 1024 * 1024);
  if (!(parsed instanceof Quantity)) throw new ValueProblem(parsed.problem.replace("bytes", "bytes (1Mi)"));
  return parsed;
}

export function asDnsLabel(raw: unknown): string {
  const text = asNonEmptyString(raw);
  const problem = dns1123LabelProblem(text);
  if (problem) throw new ValueProblem(`"${text}" ${problem}`);
  return text;
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export function asDnsSubdomain(raw: unknown): string {
  const text = asNonEmptyString(raw);
  if (text.length > 253 || !DNS1123_SUBDOMAIN.test(text)) {
    throw new ValueProblem(
      `"${text}" must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')`,
    );
  }
  return text;
}

export function asImage(raw: unknown): string {
  const text = asNonEmptyString(raw);
  if (/\s/.test(text) || !/^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/.test(text)) {
    throw new ValueProblem(
      `"${text}" is not a container image reference (e.g. quay.io/containerdisks/fedora:42)`,
    );
  }
  return text;
}

export function oneOf<T extends string>(...choices: T[]): (raw: unknown) => T {
  return (raw) => {
    const text = asString(raw).toLowerCase();
    if ((choices as string[]).includes(text)) return text as T;
    throw new ValueProblem(`must be one of ${choices.join(", ")}, got ${describe(raw)}`);
  };
}

/**
 * A VM's CPU request: `auto` (what the workload keeps busy), `none` (no request: KubeVirt
 * derives one from its CPU allocation ratio) or a CPU quantity such as 500m, 1.5 or 2.
 */
export function asCpuRequest(raw: unknown): string {
  const text = asNonEmptyString(raw);
  const lower = text.toLowerCase();
  if (lower === "auto" || lower === "none") return lower;
  const q = /^(\d+(?:\.\d+)?|\.\d+)(m?)$/.test(text) ? Quantity.parse(text) : undefined;
  if (!(q instanceof Quantity) || q.value < 0.001 || q.value > 1024) {
    throw new ValueProblem(
      `must be auto, none or a CPU quantity between 1m and 1024 (e.g. 500m, 1.5, 2), got ${describe(raw)}`,
    );
  }
  return q.text;
}

const DURATION_PART = /(\d+)(h|m|s)/g;
/** Seconds from a whole number of seconds or a Go-style duration such as 90s, 10m or 1h30m. */
export function asSeconds(raw: unknown): number {
  if (typeof raw === "number" || (typeof raw === "string" && /^\s*[+-]?\d+\s*$/.test(raw))) {
    return asInt(1)(raw);
  }
  const text = asString(raw);
  const whole = text.replace(DURATION_PART, "");
  if (text === "" || whole !== "") {
    throw new ValueProblem(`must be seconds or a duration such as 90s, 10m or 1h30m, got ${describe(raw)}`);
  }
  let seconds = 0;
  for (const [, n, unit] of text.matchAll(DURATION_PART)) {
    seconds += Number(n) * (unit === "h" ? 3600 : unit === "m" ? 60 : 1);
  }
  if (seconds < 1) throw new ValueProblem(`must be at least 1s, got ${describe(raw)}`);
  return seconds;
}

const LINUX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
export function asLinuxUser(raw: unknown): string {
  const text = asNonEmptyString(raw);
  if (!LINUX_USER.test(text)) {
    throw new ValueProblem(
      `"${text}" is not a valid Linux user name (lower-case letters, digits, '_' and '-')`,
    );
  }
  return text;
}

/**
 * Accounts and groups the guest OS already has (Debian base-passwd, Fedora setup, systemd,
 * common daemons). cloud-init would give such an account a password, a login shell and
 * passwordless sudo, or clash with a group of the same name.
 */
export const SYSTEM_ACCOUNTS: ReadonlySet<string> = new Set([
  // Debian base-passwd and Fedora setup (uid/gid < 1000)
  ...["root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy"],
  ...["www-data", "backup", "list", "irc", "gnats", "nobody", "nogroup", "adm", "operator", "halt"],
  ...["shutdown", "ftp", "tty", "disk", "kmem", "dialout", "fax", "voice", "cdrom", "floppy", "tape"],
  ...["sudo", "audio", "dip", "video", "plugdev", "staff", "users", "utmp", "shadow", "src", "sasl"],
  ...["wheel", "input", "kvm", "render", "sgx", "netdev", "lock", "mem", "wheel", "nfsnobody", "ssh_keys"],
  // daemons that distributions and cloud images ship
  ...["messagebus", "dbus", "sshd", "ssh", "_ssh", "_apt", "polkitd", "chrony", "_chrony", "tss", "uuidd"],
  ...["syslog", "rpc", "rpcuser", "tcpdump", "avahi", "dnsmasq", "qemu", "libvirt-qemu", "unbound"],
  ...["postgres", "redis", "nginx", "apache", "mysql", "sssd", "setroubleshoot", "clevis", "rtkit"],
  ...["cockpit-ws", "cockpit-wsinstance", "geoclue", "pipewire", "usbmux", "lxd", "landscape"],
  ...["pollinate", "fwupd-refresh", "tcpdump", "dhcpcd", "_rpc", "statd", "saned", "colord"],
]);

/** The guest user: a valid name that is not an account (or group) the guest OS owns. */
export function asGuestUser(raw: unknown): string {
  const text = asLinuxUser(raw);
  if (SYSTEM_ACCOUNTS.has(text) || text.startsWith("systemd-")) {
    throw new ValueProblem(
      `"${text}" is a system account of the guest OS; choose a user of your own (default: virtwork)`,
    );
  }
  return text;
}

/** Longest password accepted (well above any passphrase; far below the Secret limit). */
export const MAX_PASSWORD_LENGTH = 1024;

/** A login password: printable, one line, kept as given (no trimming of inner spaces). */
export function asPassword(raw: unknown): string {
  if (typeof raw !== "string" && typeof raw !== "number")
    throw new ValueProblem(`must be a string, got ${Array.isArray(raw) ? "a list" : typeof raw}`);
  const text = String(raw);
  if (text.trim() === "") throw new ValueProblem("must not be empty");
  if (text.length > MAX_PASSWORD_LENGTH)
    throw new ValueProblem(`is ${text.length} characters long; at most ${MAX_PASSWORD_LENGTH} allowed`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a password cannot be typed with them
  if (/[\u0000-\u001f\u007f]/.test(text))
    throw new ValueProblem("must not contain newlines or control characters (it is typed at a login prompt)");
  return text;
}

const PUBLIC_KEY =
  /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/=]+( .*)?$/;
export function asPublicKeys(raw: unknown): string[] {
  const splitKeys = (text: string) => text.split(/,(?=\s*(?:ssh-|ecdsa-|sk-))/);
  const keys = Array.isArray(raw) ? raw.flatMap((k) => splitKeys(asString(k))) : splitKeys(asString(raw));
  return keys
    .map((k) => k.trim())
    .filter((k) => k !== "")
    .map((k) => {
      if (!PUBLIC_KEY.test(k)) {
        throw new ValueProblem(
          `"${k.slice(0, 40)}…" is not an OpenSSH public key (expected e.g. "ssh-ed25519 AAAA… user@host")`,
        );
      }
      return k;
    });
}

/** A directory path; a leading `~` means the home directory. */
export function asDirectory(raw: unknown): string {
  const text = asNonEmptyString(raw);
  return text === "~" || text.startsWith("~/") ? `${homedir()}${text.slice(1)}` : text;
}

const SQLITE_HEADER = "SQLite format 3\0";
const URL_SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
/** What --audit-db takes, for messages. */
export const AUDIT_DB_FORMS =
  "a postgres:// or postgresql:// URL, or the path of a SQLite file (e.g. ./audit.db)";

/**
 * The audit database: a postgres:// URL, or a SQLite file that is new, empty or really a
 * SQLite database (its 16-byte header); anything else would fail when the run starts. Any
 * other URL is refused: `mysql://x/y` would otherwise become the SQLite file ./mysql:/x/y.
 */
export function asAuditDb(raw: unknown): string {
  const text = asNonEmptyString(raw);
  if (/^postgres(ql)?:\/\//i.test(text)) return text;
  const scheme = URL_SCHEME.exec(text)?.[1];
  if (scheme !== undefined)
    throw new ValueProblem(
      `"${maskUrlCredentials(text)}" is a ${scheme}:// URL, which the audit database does not support; give ${AUDIT_DB_FORMS}`,
    );
  let size: number;
  try {
    const stat = statSync(text);
    if (stat.isDirectory()) throw new ValueProblem(`${text} is a directory, not a SQLite database file`);
    size = stat.size;
  } catch (err) {
    if (err instanceof ValueProblem) throw err;
    return text; // created on first use
  }
  if (size === 0) return text;
  const header = Buffer.alloc(SQLITE_HEADER.length);
  try {
    const fd = openSync(text, "r");
    try {
      readSync(fd, header, 0, header.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new ValueProblem(`cannot read ${text}: ${(err as Error).message}`);
  }
  if (header.toString("latin1") !== SQLITE_HEADER) {
    throw new ValueProblem(`${text} is not a SQLite database (point it at a .db file or a postgres:// URL)`);
  }
  return text;
}

/** A run id as labels carry it (a uuid from `virtwork run`), or a unique prefix of one. */
const RUN_ID = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
export function asRunId(raw: unknown): string {
  const text = asString(raw);
  if (text === "") throw new ValueProblem("must not be empty (e.g. the uuid printed by virtwork run)");
  if (!RUN_ID.test(text)) {
    throw new ValueProblem(
      `${JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text)} is not a run id (e.g. the uuid printed by virtwork run; see virtwork history)`,
    );
  }
  return text;
}
