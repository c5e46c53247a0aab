import { X509Certificate } from "node:crypto";
import { asSeconds } from "../../config/values.ts";
import { usageErrorFrom } from "../../errors.ts";
import { readTextFile } from "../../util/text-file.ts";

/** How `verify` reaches Prometheus and how long it keeps trying. */
export interface VerifySettings {
  runId?: string;
  /** Explicit endpoint; without it, OpenShift's Thanos querier is discovered. */
  prometheusUrl?: string;
  prometheusToken?: string;
  /** PEM text of --prometheus-ca (read here, before any network call). */
  prometheusCa?: string;
  wait: boolean;
  timeoutSeconds: number;
  /** Seconds between rounds with --wait. */
  intervalSeconds: number;
  /** --for / --since: the signals over a window instead of at one instant. */
  soak?: SoakSettings;
}

export interface SoakSettings {
  /** "for": the window starts now and is waited for; "since": it just ended. */
  mode: "for" | "since";
  seconds: number;
  stepSeconds: number;
  maxGapSeconds: number;
}

/** --for / --since with --step and --max-gap: durations, checked together (exit 2 naming the flag). */
function soakSettings(flags: Record<string, unknown>, problems: string[]): SoakSettings | undefined {
  const seconds = (flag: string): number | undefined => {
    const raw = flags[flag];
    if (raw === undefined) return undefined;
    try {
      return asSeconds(raw);
    } catch (err) {
      problems.push(`--${flag}: ${(err as Error).message}`);
      return undefined;
    }
  };
  const forS = seconds("for");
  const sinceS = seconds("since");
  const step = seconds("step");
  const maxGap = seconds("max-gap");
  if (forS !== undefined && sinceS !== undefined) {
    problems.push("--for and --since: give one (--for watches from now on, --since looks back)");
    return undefined;
  }
  const window = forS ?? sinceS;
  if (window === undefined) {
    if (step !== undefined || maxGap !== undefined)
      problems.push("--step and --max-gap go with --for or --since (e.g. verify --for 1h --max-gap 2m)");
    return undefined;
  }
  const stepSeconds = step ?? 30;
  if (stepSeconds * 2 > window) {
    problems.push(
      `--step: ${stepSeconds}s leaves fewer than 2 points in a ${window}s window; use a shorter step`,
    );
    return undefined;
  }
  return {
    mode: forS !== undefined ? "for" : "since",
    seconds: window,
    stepSeconds,
    maxGapSeconds: maxGap ?? 2 * stepSeconds,
  };
}

const RUN_ID = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

/**
 * Flags (`prometheus-url`, …) over VIRTWORK_PROMETHEUS_URL / _TOKEN / _CA; bad values are one
 * UsageError (exit 2) naming the field, before anything is contacted.
 */
export function verifySettings(input: {
  flags: Record<string, unknown>;
  env: Record<string, string | undefined>;
  timeoutSeconds: number;
  runId?: string;
  wait?: boolean;
}): VerifySettings {
  const { flags, env } = input;
  const problems: string[] = [];
  const pick = (flag: string, envName: string): [string | undefined, string] => {
    const f = flags[flag];
    if (typeof f === "string") return [f, `--${flag}`];
    const e = env[envName];
    return e ? [e, envName] : [undefined, `--${flag}`];
  };
  const settings: VerifySettings = {
    wait: input.wait ?? flags.wait === true,
    timeoutSeconds: input.timeoutSeconds,
    intervalSeconds: 5,
  };
  const runId = input.runId ?? (typeof flags["run-id"] === "string" ? flags["run-id"] : undefined);
  if (runId !== undefined) {
    if (RUN_ID.test(runId)) settings.runId = runId;
    else
      problems.push(
        `--run-id: ${JSON.stringify(runId)} is not a run id (a label value such as the uuid run printed)`,
      );
  }
  const [url, urlField] = pick("prometheus-url", "VIRTWORK_PROMETHEUS_URL");
  if (url !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {}
    if (
      !parsed ||
      (parsed.protocol !== "http:" && parsed.protocol !== "https:") ||
      parsed.search ||
      parsed.hash
    )
      problems.push(
        `${urlField}: ${JSON.stringify(url)} is not an http(s) base URL; use e.g. https://prometheus.example.com or http://127.0.0.1:9090`,
      );
    else settings.prometheusUrl = url;
  }
  const [token, tokenField] = pick("prometheus-token", "VIRTWORK_PROMETHEUS_TOKEN");
  if (token !== undefined) {
    // the token becomes an HTTP header: no whitespace or control characters
    if (/^[\x21-\x7e]+$/.test(token)) settings.prometheusToken = token;
    else problems.push(`${tokenField}: the token must be one word of printable characters (a bearer token)`);
  }
  const [ca, caField] = pick("prometheus-ca", "VIRTWORK_PROMETHEUS_CA");
  if (ca !== undefined) {
    let pem: string | undefined;
    try {
      pem = readTextFile(ca);
    } catch (err) {
      problems.push(`${caField}: cannot read ${ca}: ${(err as Error).message}`);
    }
    if (pem !== undefined) {
      const problem = caBundleProblem(pem);
      if (problem) problems.push(`${caField}: ${ca} ${problem}`);
      else settings.prometheusCa = pem;
    }
  }
  const alone = [settings.prometheusToken && tokenField, settings.prometheusCa && caField].filter(Boolean);
  if (alone.length && !settings.prometheusUrl)
    problems.push(
      `${alone.join(" and ")} ${alone.length > 1 ? "go" : "goes"} with --prometheus-url or VIRTWORK_PROMETHEUS_URL (the discovered Thanos querier uses the kubeconfig's credentials)`,
    );
  const soak = soakSettings(flags, problems);
  if (soak) settings.soak = soak;
  if (problems.length) throw usageErrorFrom(problems);
  return settings;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * What is wrong with a PEM CA bundle, or undefined: every certificate in it must parse (a
 * truncated or mangled one would only fail in the TLS handshake, after the cluster calls).
 */
function caBundleProblem(pem: string): string | undefined {
  const begun = pem.split("-----BEGIN CERTIFICATE-----").length - 1;
  if (!begun) return "holds no PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)";
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  for (let i = 0; i < begun; i++) {
    try {
      new X509Certificate(blocks[i] ?? "");
    } catch {
      return `holds a certificate that does not parse (certificate ${i + 1} of ${begun}); give the PEM CA bundle that signed the Prometheus certificate`;
    }
  }
  return undefined;
}
