import http from "node:http";
import https from "node:https";
import type { Connection } from "./connect.ts";
import {
  type CallInfo,
  isUnreachable,
  KubeError,
  KubeNetworkError,
  kubeErrorFrom,
  unreachableHint,
} from "./errors.ts";
import { RateLimiter } from "./rate-limit.ts";
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from "./retry.ts";

export interface ClientOptions {
  qps: number;
  burst: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  retry?: RetryPolicy;
  onRetry?: (call: CallInfo, err: unknown, attempt: number, delayMs: number) => void;
  /** A watch that sends nothing (not even a bookmark) this long is given up (default WATCH_IDLE_MS). */
  watchIdleMs?: number;
}

/**
 * How long a watch may stay silent before the client gives up on it and the caller resumes from
 * the last resourceVersion. A stream can stay open yet deliver nothing (a stalled proxy or load
 * balancer, a half-open connection); the API server's own bookmarks come only about once a
 * minute, so silence alone cannot tell a quiet watch from a dead one. A re-watch costs one
 * request and misses nothing (it resumes from the last version seen), so a short bound is cheap:
 * a stall costs at most this long, not the run.
 */
export const WATCH_IDLE_MS = 20_000;
/** The code of the KubeNetworkError a silent watch ends with. */
export const WATCH_IDLE_CODE = "EWATCHIDLE";

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
  /** Whether any answer came back from the server (until then, unreachable fails at once). */
  private reached = false;
  /** Set once the first call found nothing at the server address: every other call fails the same. */
  private unreachable: KubeNetworkError | undefined;
  private closed = false;

  private constructor(connection: Connection, options: ClientOptions, requestOptions: https.RequestOptions) {
    this.connection = connection;
    this.base = new URL(connection.server);
    this.options = options;
    this.limiter = new RateLimiter(options.qps, options.burst);
    this.requestOptions = requestOptions;
  }

  static async create(connection: Connection, options: ClientOptions): Promise<KubeClient> {
    const { tls } = connection;
    const opts: https.RequestOptions = {
      headers: { ...connection.credentials.headers },
      ...(tls.servername ? { servername: tls.servername } : {}),
    };
    // proxyEnv: Node's own HTTP(S) proxy support (CONNECT tunnels for https), NO_PROXY included.
    const agentOptions = {
      keepAlive: true,
      maxSockets: 64,
      ...(connection.proxyEnv ? { proxyEnv: connection.proxyEnv } : {}),
    };
    const isHttps = new URL(connection.server).protocol === "https:";
    opts.agent = isHttps
      ? new https.Agent({
          ...agentOptions,
          ...(tls.ca ? { ca: tls.ca } : {}),
          ...(tls.cert ? { cert: tls.cert } : {}),
          ...(tls.key ? { key: tls.key } : {}),
          rejectUnauthorized: tls.verify,
        })
      : new http.Agent(agentOptions);
    return new KubeClient(connection, options, opts);
  }

  /**
   * Request headers and TLS options with the current credentials (credentials.ts): a token
   * file is re-read every minute (as client-go does), an exec plugin's token is asked for again
   * once it expired, so long waits outlive short-lived tokens.
   */
  private async headers(): Promise<{ headers: http.OutgoingHttpHeaders; cert?: string; key?: string }> {
    const headers = { ...(this.requestOptions.headers as http.OutgoingHttpHeaders) };
    const credential = await this.connection.credentials.get();
    if (credential.authorization) headers.Authorization = credential.authorization;
    return {
      headers,
      ...(credential.cert ? { cert: credential.cert } : {}),
      ...(credential.key ? { key: credential.key } : {}),
    };
  }

  /** Sends one request (with retries) and returns the parsed JSON body. */
  async request<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const signal = options.signal;
    const once = async () => {
      if (this.unreachable) throw this.unreachable;
      await this.limiter.take(signal);
      try {
        if (options.settleInFlight) {
          signal?.throwIfAborted();
          const { signal: _signal, ...rest } = options;
          return await this.send(method, path, rest);
        }
        return await this.send(method, path, { ...options, ...(signal ? { signal } : {}) });
      } catch (err) {
        // Nothing has ever answered: a wrong address, a stopped cluster or a TLS mismatch will
        // not go away by retrying. Say so at once, with the server and the context.
        // The server pushes back (APF, max-in-flight): everyone slows down, not only this call.
        if (err instanceof KubeError && err.status === 429)
          this.limiter.throttled((err.retryAfterSeconds ?? 1) * 1000);
        // A rotated token file or an expired plugin token: ask again at once and try once more.
        if (err instanceof KubeError && err.status === 401 && this.connection.credentials.dynamic) {
          this.connection.credentials.invalidate();
          return await this.send(method, path, { ...options, ...(signal ? { signal } : {}) });
        }
        if (this.closed)
          throw new KubeNetworkError(`${options.call.verb}: client closed`, "ECLOSED", options.call, {
            retryable: false,
          });
        if (!this.reached && isUnreachable(err)) {
          this.unreachable ??= new KubeNetworkError(
            `cannot reach the API server ${this.connection.server} (${this.connection.contextName === "in-cluster" ? "in-cluster" : `context "${this.connection.contextName}"`}, from ${this.connection.source}): ${unreachableHint(err.code)}`,
            err.code,
            err.call,
            { retryable: false },
          );
          throw this.unreachable;
        }
        throw err;
      }
    };
    const text =
      options.retry === false
        ? await once()
        : await withRetry(once, {
            policy: this.options.retry ?? DEFAULT_RETRY,
            ...(signal ? { signal } : {}),
            onRetry: (err, attempt, delay) => this.options.onRetry?.(options.call, err, attempt, delay),
          });
    return (text ? JSON.parse(text) : {}) as T;
  }

  private url(path: string, query?: Record<string, string | undefined>): URL {
    const url = new URL(this.base.pathname.replace(/\/$/, "") + path, this.base);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    return url;
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<string> {
    const url = this.url(path, options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const transport = url.protocol === "https:" ? https : http;
    const { headers, ...clientCert } = await this.headers();
    return new Promise((resolve, reject) => {
      const req = transport.request(
        url,
        {
          ...this.requestOptions,
          ...clientCert,
          method,
          headers: {
            ...headers,
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
          this.reached = true;
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
   * One watch request (through the rate limiter): calls `onEvent` for each event, bookmarks
   * included, until the server ends the stream (resolves), `onEvent` returns "stop" or the
   * signal aborts (resolves), or the stream fails (rejects): an HTTP error answer or an ERROR
   * event (KubeError with its code, 410 for an expired resourceVersion), a broken connection, an
   * idle stream or a line that is not an event (KubeNetworkError). Resuming is the caller's job
   * (see watch.ts). Resolves with the last resourceVersion seen.
   */
  async watch<T extends { metadata?: { resourceVersion?: string } }>(
    path: string,
    query: Record<string, string | undefined>,
    call: CallInfo,
    onEvent: (event: WatchEvent<T>) => "stop" | undefined,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const abort = signal;
    await this.limiter.take(abort);
    const url = this.url(path, { ...query, watch: "true", allowWatchBookmarks: "true" });
    const transport = url.protocol === "https:" ? https : http;
    const { headers, ...clientCert } = await this.headers();
    let lastVersion = query.resourceVersion;
    // Stopped while the credentials were fetched (an exec plugin takes a while): send nothing.
    if (abort?.aborted) return lastVersion;
    // A stream silent for WATCH_IDLE_MS may be dead (see there): give up on it and let the
    // caller resume. Never later than just after the server's own timeout.
    const idleMs = Math.min(
      (Number(query.timeoutSeconds ?? 300) + 30) * 1000,
      this.options.watchIdleMs ?? WATCH_IDLE_MS,
    );
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        abort?.removeEventListener("abort", onAbort);
        req.destroy();
        if (err === undefined || abort?.aborted) resolve(lastVersion);
        else reject(err);
      };
      const onAbort = () => finish();
      const req = transport.request(
        url,
        {
          ...this.requestOptions,
          ...clientCert,
          method: "GET",
          headers: { ...headers, Accept: "application/json", "User-Agent": "virtwork" },
          timeout: idleMs,
        },
        (res) => {
          this.reached = true;
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => {
              const err = kubeErrorFrom(
                status,
                Buffer.concat(chunks).toString("utf8"),
                call,
                headerValue(res.headers["retry-after"]),
              );
              if (status === 429) this.limiter.throttled((err.retryAfterSeconds ?? 1) * 1000);
              finish(err);
            });
            res.on("error", (err) => finish(networkError(err, call, this.connection)));
            return;
          }
          let buffered = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            buffered += chunk;
            for (let nl = buffered.indexOf("\n"); nl >= 0 && !settled; nl = buffered.indexOf("\n")) {
              const line = buffered.slice(0, nl).trim();
              buffered = buffered.slice(nl + 1);
              if (!line) continue;
              let event: WatchEvent<T>;
              try {
                event = JSON.parse(line) as WatchEvent<T>;
                if (typeof event?.type !== "string" || typeof event.object !== "object")
                  throw new Error("no type");
              } catch {
                finish(
                  new KubeNetworkError(
                    `${call.verb}: the watch stream sent a line that is not an event: ${line.slice(0, 80)}`,
                    "EBADEVENT",
                    call,
                  ),
                );
                return;
              }
              if (event.type === "ERROR") {
                const code = (event.object as { code?: number }).code ?? 500;
                finish(kubeErrorFrom(code, JSON.stringify(event.object), call));
                return;
              }
              lastVersion = event.object?.metadata?.resourceVersion ?? lastVersion;
              if (onEvent(event) === "stop") finish();
            }
          });
          res.on("end", () => finish());
          res.on("error", (err) => finish(networkError(err, call, this.connection)));
          res.on("close", () => {
            if (!res.complete)
              finish(networkError(new Error("watch stream cut"), call, this.connection, "ECONNRESET"));
          });
        },
      );
      // Listeners first: finish() destroys the request, and a destroyed request emits "socket
      // hang up"; with no listener that error would crash the process.
      req.on("timeout", () =>
        finish(
          new KubeNetworkError(
            `${call.verb}: the watch stream sent nothing for ${idleMs / 1000}s (open but silent); resuming`,
            WATCH_IDLE_CODE,
            call,
          ),
        ),
      );
      req.on("error", (err) => finish(networkError(err, call, this.connection)));
      if (abort?.aborted) return finish();
      abort?.addEventListener("abort", onAbort, { once: true });
      req.end();
    });
  }

  close(): void {
    this.closed = true;
    const agent = this.requestOptions.agent;
    if (agent && typeof agent !== "boolean") agent.destroy();
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A network failure that says which server and context, and what to check next. */
function networkError(
  err: Error,
  call: CallInfo,
  connection: Connection,
  fallbackCode = "ENETWORK",
): KubeNetworkError {
  const code = (err as NodeJS.ErrnoException).code ?? fallbackCode;
  const context =
    connection.contextName === "in-cluster" ? "in-cluster" : `context "${connection.contextName}"`;
  return new KubeNetworkError(
    `${call.verb}: cannot reach the API server ${connection.server} (${context}, from ${connection.source}): ${err.message} (${code}); check that the cluster is up and that this is the right context (--context, --kubeconfig)`,
    code,
    call,
  );
}
