import type { Resource } from "./resources.ts";
import { qualifiedName } from "./resources.ts";

/** What an API call was, for error messages that say what failed. */
export interface CallInfo {
  verb: string;
  resource?: Resource;
  name?: string;
  namespace?: string;
}

/** A failed API call, classified. `message` is one line a user can act on. */
export class KubeError extends Error {
  override name = "KubeError";
  readonly status: number;
  readonly reason: string;
  readonly call: CallInfo;
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, status: number, reason: string, call: CallInfo, retryAfterSeconds?: number) {
    super(message);
    this.status = status;
    this.reason = reason;
    this.call = call;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }
  get isAlreadyExists(): boolean {
    return this.status === 409 && this.reason === "AlreadyExists";
  }
}

/** A network-level failure (reset, refused, timeout) before an HTTP status arrived. */
export class KubeNetworkError extends Error {
  override name = "KubeNetworkError";
  readonly code: string;
  readonly call: CallInfo;
  /** false: retrying cannot help (e.g. nothing answers at the server address). */
  readonly retryable: boolean | undefined;
  constructor(message: string, code: string, call: CallInfo, options: { retryable?: boolean } = {}) {
    super(message);
    this.code = code;
    this.call = call;
    this.retryable = options.retryable;
  }
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRYABLE_NETWORK = new Set([
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ECONNREFUSED",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "ESOCKETTIMEDOUT",
]);

export function isRetryable(err: unknown): boolean {
  if (err instanceof KubeError) return RETRYABLE_STATUS.has(err.status);
  if (err instanceof KubeNetworkError) return err.retryable ?? RETRYABLE_NETWORK.has(err.code);
  return false;
}

/**
 * Whether a watch (or the list before it) should be resumed after `err`: throttling and server
 * errors, any broken or ended connection, an event line that does not parse. Not: 401/403/404
 * and other answers that say the request itself is wrong (and 410, which means re-list).
 */
export function isWatchRetryable(err: unknown): boolean {
  if (err instanceof KubeError) return RETRYABLE_STATUS.has(err.status);
  if (!(err instanceof KubeNetworkError) || err.retryable === false) return false;
  return !UNREACHABLE.has(err.code) && !isTlsCode(err.code);
}

/** Codes that mean the server is not there (wrong address, down, no DNS name). */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ERR_PROXY_TUNNEL",
]);

export function isTlsCode(code: string): boolean {
  return /CERT|SELF_SIGNED|TLS|SSL|UNABLE_TO_VERIFY|ALTNAME/.test(code);
}

/** A failure on the very first request that retrying cannot fix: no server there, or TLS refused. */
export function isUnreachable(err: unknown): err is KubeNetworkError {
  return err instanceof KubeNetworkError && (UNREACHABLE.has(err.code) || isTlsCode(err.code));
}

/** What went wrong with an unreachable server and what to check, by error code. */
export function unreachableHint(code: string): string {
  const generic = "check that the cluster is up and that this is the right context (--context, --kubeconfig)";
  if (code === "ECONNREFUSED") return `connection refused (${code}); ${generic}`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    return `unknown host (${code}): check the server name in the kubeconfig (and DNS / VPN); ${generic}`;
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH")
    return `no route to the host (${code}): check the network or VPN; ${generic}`;
  if (code === "ERR_PROXY_TUNNEL")
    return `the proxy refused the connection (${code}): check HTTPS_PROXY / NO_PROXY or the cluster's proxy-url in the kubeconfig`;
  return `TLS handshake failed (${code}): check certificate-authority(-data) in the kubeconfig, or log in again (e.g. oc login) to refresh it`;
}

function describeCall(call: CallInfo): string {
  const what = call.resource ? qualifiedName(call.resource) : "";
  const target = call.name ? `${what} "${call.name}"` : what;
  const where = call.namespace ? ` in namespace "${call.namespace}"` : "";
  return `${call.verb} ${target}${where}`.trim();
}

/** What to check when the API server does not serve `resource`. */
export function missingResourceHint(resource: Resource | undefined): string {
  if (resource?.group === "cdi.kubevirt.io") {
    return "is the Containerized Data Importer (CDI) installed? OpenShift Virtualization includes it";
  }
  if (resource?.group === "kubevirt.io") return "is OpenShift Virtualization (KubeVirt) installed?";
  return "check the cluster version";
}

interface Status {
  reason?: string;
  message?: string;
  details?: { causes?: { field?: string; message?: string }[] };
}

/** Turns an HTTP error answer into a KubeError whose message names the verb, resource and fix. */
export function kubeErrorFrom(status: number, body: string, call: CallInfo, retryAfter?: string): KubeError {
  let parsed: Status = {};
  try {
    parsed = JSON.parse(body) as Status;
  } catch {
    parsed = { message: body.trim().slice(0, 200) };
  }
  const reason = parsed.reason ?? "";
  const serverMessage = (parsed.message ?? "").replace(/\s+/g, " ");
  const action = describeCall(call);
  const retryAfterSeconds =
    retryAfter !== undefined && /^\d+$/.test(retryAfter) ? Number(retryAfter) : undefined;
  let message: string;
  switch (true) {
    case status === 401:
      message = `${action}: unauthorized (401): the credentials in the kubeconfig were rejected; log in again (e.g. oc login) or check the token`;
      break;
    case status === 403 && /exceeded quota|status unknown for quota/i.test(serverMessage):
      message = `${action}: refused by a ResourceQuota (403): ${serverMessage}; check \`kubectl describe resourcequota${call.namespace ? ` -n ${call.namespace}` : ""}\`, ask for more quota, or plan fewer or smaller VMs (--vm-count, --cpu-cores, --memory)`;
      break;
    case status === 403:
      message = `${action}: forbidden (403): the current identity may not ${call.verb} ${call.resource ? qualifiedName(call.resource) : "this resource"}${call.namespace ? ` in namespace "${call.namespace}"` : ""}; ask for RBAC that grants it (${serverMessage})`;
      break;
    case status === 404 && call.resource !== undefined && reason !== "NotFound" && call.name === undefined:
    case status === 404 && /the server could not find the requested resource/.test(serverMessage):
      message = `${action}: the API server does not serve ${call.resource ? qualifiedName(call.resource) : "this resource"}; ${missingResourceHint(call.resource)}`;
      break;
    case status === 422 || reason === "Invalid" || reason === "BadRequest": {
      const causes = (parsed.details?.causes ?? [])
        .map((c) => `${c.field ?? ""}: ${c.message ?? ""}`)
        .join("; ");
      message = `${action}: rejected by the API server (${status} ${reason}): ${causes || serverMessage}`;
      break;
    }
    case status === 429:
      message = `${action}: the API server is throttling requests (429)`;
      break;
    default:
      message = `${action}: ${status}${reason ? ` ${reason}` : ""}: ${serverMessage || "no details"}`;
  }
  return new KubeError(message, status, reason, call, retryAfterSeconds);
}
