import { homedir } from "node:os";
import { dns1123LabelProblem } from "../manifests/names.ts";
import { Quantity } from "../util/quantity.ts";

/**
 * Converters shared by every source: a value may be a string (flag, env) or a YAML scalar
 * or list (config file). Each returns the parsed value or throws a `ValueProblem` that the
 * loader turns into one error line naming the field.
 */
export class ValueProblem extends Error {}

function describe(raw: unknown): string {
  return typeof raw === "string" ? `"${raw}"` : JSON.stringify(raw);
}

export function asString(raw: unknown): string {
  if (typeof raw === "string") return raw.trim();
  if (typeof raw === "number") return String(raw);
  throw new ValueProblem(`must be a string, got ${describe(raw)}`);
}

export function asNonEmptyString(raw: unknown): string {
  const s = asString(raw);
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
