import http from "node:http";
import https from "node:https";
import { rootCertificates } from "node:tls";

/** Where Prometheus' HTTP API is and how to authenticate; `source` says how it was found. */
export interface PrometheusEndpoint {
  /** Base URL, e.g. https://thanos-querier-openshift-monitoring.apps.example.com */
  url: string;
  /** Bearer token (sent as `Authorization: Bearer …`). */
  token?: string;
  /** PEM bundle trusted in addition to the system's CAs. */
  ca?: string;
  /** For messages: `--prometheus-url`, `the Thanos querier route in openshift-monitoring`. */
  source: string;
  /** How to get access when the endpoint answers 403 (differs by endpoint). */
  forbiddenHint?: string;
}

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export type PrometheusProblem =
  | "unauthorized"
  | "forbidden"
  | "unreachable"
  | "bad-query"
  | "server"
  | "too-large";

/**
 * The most one answer may hold. verify's queries select one run's VMs, a few samples each (a few
 * hundred bytes per VM × signal: 8000 VMs stay under 10 MiB); an answer past this is not about
 * them (a wrong URL, a proxy's error page, a runaway query) and is cut off unread, not parsed.
 */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** A failed Prometheus request, with one line a user can act on. */
export class PrometheusError extends Error {
  override name = "PrometheusError";
  readonly problem: PrometheusProblem;
  readonly status: number | undefined;
  constructor(message: string, problem: PrometheusProblem, status?: number) {
    super(message);
    this.problem = problem;
    this.status = status;
  }
  /** Worth trying again later (`verify --wait`): the server was there but busy or restarting. */
  get transient(): boolean {
    return this.problem === "server" || (this.problem === "unreachable" && this.status === undefined);
  }
}

const DEFAULT_FORBIDDEN =
  "the identity needs read access to metrics (on OpenShift: the cluster-monitoring-view ClusterRole, e.g. oc adm policy add-cluster-role-to-user cluster-monitoring-view <user>)";

function describeNetworkError(err: NodeJS.ErrnoException, ep: PrometheusEndpoint): string {
  const code = err.code ?? "";
  const where = `Prometheus at ${ep.url} (${ep.source})`;
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code))
    return `cannot verify the TLS certificate of ${where}: ${err.message} (${code}); pass the CA that signed it with --prometheus-ca`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    return `cannot reach ${where}: the host name does not resolve (${code}); check the URL`;
  return `cannot reach ${where}: ${err.message}${code ? ` (${code})` : ""}; check the URL and that Prometheus is running`;
}

export interface QueryOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  maxBytes?: number;
}

/**
 * One instant query over the HTTP API (`GET /api/v1/query`): the vector result's samples.
 * 401/403/unreachable/bad query are PrometheusErrors naming the fix.
 */
export async function instantQuery(
  ep: PrometheusEndpoint,
  promql: string,
  options: QueryOptions = {},
): Promise<Sample[]> {
  const result = await apiQuery(ep, "query", { query: promql }, "vector", options);
  return result.map((r) => {
    const s = r as { metric?: Record<string, string>; value?: [number, string] };
    return { labels: s.metric ?? {}, value: Number(s.value?.[1]) };
  });
}

/** One series of a range query: its labels and (unix seconds, value) points in time order. */
export interface Series {
  labels: Record<string, string>;
  points: [number, number][];
}

/** A range query (`GET /api/v1/query_range`) from `start` to `end` (unix seconds) every `step` seconds. */
export async function rangeQuery(
  ep: PrometheusEndpoint,
  promql: string,
  range: { start: number; end: number; stepSeconds: number },
  options: QueryOptions = {},
): Promise<Series[]> {
  const result = await apiQuery(
    ep,
    "query_range",
    { query: promql, start: String(range.start), end: String(range.end), step: String(range.stepSeconds) },
    "matrix",
    options,
  );
  return result.map((r) => {
    const s = r as { metric?: Record<string, string>; values?: [number, string][] };
    return {
      labels: s.metric ?? {},
      points: (s.values ?? []).map(([t, v]) => [Number(t), Number(v)] as [number, number]),
    };
  });
}

/** GET /api/v1/<endpoint>: the result of a `resultType` answer, or a PrometheusError naming the fix. */
function apiQuery(
  ep: PrometheusEndpoint,
  endpoint: "query" | "query_range",
  params: Record<string, string>,
  resultType: "vector" | "matrix",
  options: QueryOptions,
): Promise<unknown[]> {
  const promql = params.query ?? "";
  const url = new URL(`${ep.url.replace(/\/+$/, "")}/api/v1/${endpoint}`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const isHttps = url.protocol === "https:";
  const transport = isHttps ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      url,
      {
        method: "GET",
        headers: {
          Accept: "application/json",
          "User-Agent": "virtwork",
          ...(ep.token ? { Authorization: `Bearer ${ep.token}` } : {}),
        },
        timeout: options.timeoutMs ?? 30_000,
        ...(isHttps && ep.ca ? { ca: [...rootCertificates, ep.ca] } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (res) => {
        const where = `Prometheus at ${ep.url} (${ep.source})`;
        const limit = options.maxBytes ?? MAX_RESPONSE_BYTES;
        const tooLarge = (size: string) => {
          req.destroy();
          reject(
            new PrometheusError(
              `${where} sent ${size} for one query, more than virtwork reads (${limit / 1024 / 1024} MiB); the answer cannot be about this run's VMs: check --prometheus-url and that no proxy answers in its place: ${promql}`,
              "too-large",
              res.statusCode,
            ),
          );
        };
        const declared = Number(res.headers["content-length"] ?? Number.NaN);
        if (declared > limit) return tooLarge(`${declared} bytes (Content-Length)`);
        const chunks: Buffer[] = [];
        let received = 0;
        res.on("data", (c: Buffer) => {
          received += c.length;
          if (received > limit) return tooLarge(`more than ${received} bytes`);
          chunks.push(c);
        });
        res.on("error", (err) => reject(new PrometheusError(describeNetworkError(err, ep), "unreachable")));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString("utf8");
          let body: { status?: string; error?: string; data?: { resultType?: string; result?: unknown[] } } =
            {};
          try {
            body = JSON.parse(text);
          } catch {}
          if (status === 401) {
            reject(
              new PrometheusError(
                `${where} rejected the credentials (401): pass a valid bearer token with --prometheus-token${
                  ep.source.includes("Thanos")
                    ? " (the kubeconfig's token is used: log in again, e.g. oc login)"
                    : ""
                }`,
                "unauthorized",
                401,
              ),
            );
          } else if (status === 403) {
            reject(
              new PrometheusError(
                `${where} refused the query (403 Forbidden): ${ep.forbiddenHint ?? DEFAULT_FORBIDDEN}`,
                "forbidden",
                403,
              ),
            );
          } else if (status === 400 || status === 422) {
            reject(
              new PrometheusError(
                `${where} rejected the query (${status}): ${body.error ?? text.slice(0, 200)}: ${promql}`,
                "bad-query",
                status,
              ),
            );
          } else if (status === 404) {
            reject(
              new PrometheusError(
                `${where} has no /api/v1/${endpoint} (404): is this the Prometheus (or Thanos querier) base URL?`,
                "unreachable",
                404,
              ),
            );
          } else if (status < 200 || status >= 300 || body.status !== "success") {
            reject(
              new PrometheusError(
                `${where} answered ${status}: ${body.error ?? (text.slice(0, 200) || "no details")}`,
                "server",
                status,
              ),
            );
          } else if (body.data?.resultType !== resultType) {
            reject(
              new PrometheusError(
                `${where} returned a ${body.data?.resultType} where a ${resultType} was asked for: ${promql}`,
                "bad-query",
              ),
            );
          } else {
            resolve(body.data.result ?? []);
          }
        });
      },
    );
    req.on("timeout", () =>
      req.destroy(Object.assign(new Error("request timed out"), { code: "ETIMEDOUT" })),
    );
    req.on("error", (err) =>
      reject(
        options.signal?.aborted
          ? options.signal.reason
          : new PrometheusError(describeNetworkError(err as NodeJS.ErrnoException, ep), "unreachable"),
      ),
    );
    req.end();
  });
}
