import http from "node:http";
import https from "node:https";
import type { Connection } from "./connect.ts";
import { type CallInfo, KubeNetworkError, kubeErrorFrom } from "./errors.ts";
import { RateLimiter } from "./rate-limit.ts";
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from "./retry.ts";

export interface ClientOptions {
  qps: number;
  burst: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  retry?: RetryPolicy;
  onRetry?: (call: CallInfo, err: unknown, attempt: number, delayMs: number) => void;
}

export interface RequestOptions {
  call: CallInfo;
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Retry 429/5xx/resets (default true). */
  retry?: boolean;
  /**
   * The signal stops waiting (rate limit, retry backoff) but not a request already on the
   * wire: it gets its answer, so the caller knows whether it took effect.
   */
  settleInFlight?: boolean;
}

export interface WatchEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

/**
 * The one place that sends HTTP to the API server: TLS and credentials from the kubeconfig,
 * a client-side rate limit, and retries with backoff for throttling and transient failures.
 */
export class KubeClient {
  readonly connection: Connection;
  private readonly base: URL;
  private readonly limiter: RateLimiter;
  private readonly options: ClientOptions;
  private readonly requestOptions: https.RequestOptions;

  private constructor(connection: Connection, options: ClientOptions, requestOptions: https.RequestOptions) {
    this.connection = connection;
    this.base = new URL(connection.server);
    this.options = options;
    this.limiter = new RateLimiter(options.qps, options.burst);
    this.requestOptions = requestOptions;
  }

  static async create(connection: Connection, options: ClientOptions): Promise<KubeClient> {
    const opts: https.RequestOptions = { headers: {} };
    await connection.kubeConfig.applyToHTTPSOptions(opts);
    const agentOptions = { keepAlive: true, maxSockets: 64 };
    const isHttps = new URL(connection.server).protocol === "https:";
    opts.agent = isHttps
      ? new https.Agent({
          ...agentOptions,
          ...(opts.ca ? { ca: opts.ca } : {}),
          ...(opts.cert ? { cert: opts.cert } : {}),
          ...(opts.key ? { key: opts.key } : {}),
          ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
        })
      : new http.Agent(agentOptions);
    return new KubeClient(connection, options, opts);
  }

  /** Sends one request (with retries) and returns the parsed JSON body. */
  async request<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const once = async () => {
      await this.limiter.take(options.signal);
      if (options.settleInFlight) {
        options.signal?.throwIfAborted();
        const { signal: _signal, ...rest } = options;
        return this.send(method, path, rest);
      }
      return this.send(method, path, options);
    };
    const text =
      options.retry === false
        ? await once()
        : await withRetry(once, {
            policy: this.options.retry ?? DEFAULT_RETRY,
            ...(options.signal ? { signal: options.signal } : {}),
            onRetry: (err, attempt, delay) => this.options.onRetry?.(options.call, err, attempt, delay),
          });
    return (text ? JSON.parse(text) : {}) as T;
  }

  private url(path: string, query?: Record<string, string | undefined>): URL {
    const url = new URL(this.base.pathname.replace(/\/$/, "") + path, this.base);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    return url;
  }

  private send(method: string, path: string, options: RequestOptions): Promise<string> {
    const url = this.url(path, options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const transport = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(
        url,
        {
          ...this.requestOptions,
          method,
          headers: {
            ...this.requestOptions.headers,
            Accept: "application/json",
            "User-Agent": "virtwork",
            ...(body !== undefined
              ? {
                  "Content-Type": options.contentType ?? "application/json",
                  "Content-Length": Buffer.byteLength(body),
                }
              : {}),
          },
          timeout: this.options.timeoutMs ?? 30_000,
          ...(options.signal ? { signal: options.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", (err) => reject(networkError(err, options.call, this.connection)));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve(text);
            else reject(kubeErrorFrom(status, text, options.call, headerValue(res.headers["retry-after"])));
          });
        },
      );
      req.on("timeout", () =>
        req.destroy(Object.assign(new Error("request timed out"), { code: "ETIMEDOUT" })),
      );
      req.on("error", (err) =>
        reject(
          options.signal?.aborted ? options.signal.reason : networkError(err, options.call, this.connection),
        ),
      );
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  /**
   * A watch stream: calls `onEvent` for each event until the server closes the stream,
   * the signal aborts, or `onEvent` returns "stop". Resolves with the last resourceVersion seen.
   */
  watch<T extends { metadata?: { resourceVersion?: string } }>(
    path: string,
    query: Record<string, string | undefined>,
    call: CallInfo,
    onEvent: (event: WatchEvent<T>) => "stop" | undefined,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const url = this.url(path, { ...query, watch: "true", allowWatchBookmarks: "true" });
    const transport = url.protocol === "https:" ? https : http;
    let lastVersion = query.resourceVersion;
    return new Promise((resolve, reject) => {
      const req = transport.request(
        url,
        {
          ...this.requestOptions,
          method: "GET",
          headers: { ...this.requestOptions.headers, Accept: "application/json" },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => reject(kubeErrorFrom(status, Buffer.concat(chunks).toString("utf8"), call)));
            return;
          }
          let buffered = "";
          let stopped = false;
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            if (stopped) return;
            buffered += chunk;
            for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
              const line = buffered.slice(0, nl).trim();
              buffered = buffered.slice(nl + 1);
              if (!line) continue;
              const event = JSON.parse(line) as WatchEvent<T>;
              if (event.type === "ERROR") {
                stopped = true;
                req.destroy();
                const status = (event.object as { code?: number }).code ?? 500;
                reject(kubeErrorFrom(status, JSON.stringify(event.object), call));
                return;
              }
              lastVersion = event.object.metadata?.resourceVersion ?? lastVersion;
              if (event.type !== "BOOKMARK" && onEvent(event) === "stop") {
                stopped = true;
                req.destroy();
                resolve(lastVersion);
                return;
              }
            }
          });
          res.on("end", () => resolve(lastVersion));
          res.on("error", (err) => (stopped ? undefined : reject(networkError(err, call, this.connection))));
        },
      );
      const onAbort = () => req.destroy();
      signal?.addEventListener("abort", onAbort, { once: true });
      req.on("close", () => {
        signal?.removeEventListener("abort", onAbort);
        if (signal?.aborted) resolve(lastVersion);
      });
      req.on("error", (err) =>
        signal?.aborted ? resolve(lastVersion) : reject(networkError(err, call, this.connection)),
      );
      req.end();
    });
  }

  close(): void {
    const agent = this.requestOptions.agent;
    if (agent && typeof agent !== "boolean") agent.destroy();
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A network failure that says which server and context, and what to check next. */
function networkError(err: Error, call: CallInfo, connection: Connection): KubeNetworkError {
  const code = (err as NodeJS.ErrnoException).code ?? "ENETWORK";
  const context =
    connection.contextName === "in-cluster" ? "in-cluster" : `context "${connection.contextName}"`;
  return new KubeNetworkError(
    `${call.verb}: cannot reach the API server ${connection.server} (${context}, from ${connection.source}): ${err.message} (${code}); check that the cluster is up and that this is the right context (--context, --kubeconfig)`,
    code,
    call,
  );
}
