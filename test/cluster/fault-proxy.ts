/**
 * A fault-injecting HTTP proxy in front of the local test cluster's kube-apiserver, for the
 * faults a webhook cannot make: on reads and watches, and on the connection itself. The client
 * under test talks plain HTTP to 127.0.0.1:<port> (kubeconfigFor writes a kubeconfig with the
 * same token); the proxy forwards over TLS to the real API server.
 *
 * Rules (set(rules), evaluated in order, every matching rule applies):
 *   { on: "watch" | "list" | "read" | "write" | "any", resource?: "virtualmachineinstances", ... }
 *   status   answer 429 (with Retry-After) / 500 / 503 as the API server would, not forwarded
 *   kill     destroy the connection before answering (the client sees a reset / hang-up)
 *   cut      forward, then destroy the connection `afterMs` into the response (a stream cut mid-wait)
 *   end      forward, then end the response cleanly after `afterMs` (a load balancer closing a watch)
 *   garbage  forward, and `afterMs` in, write a line that is not a watch event
 *   stall    forward, then `afterMs` in stop forwarding but keep the connection open (a stalled
 *            proxy or load balancer: the watch stays open and silent). Counted only when the
 *            request is forwarded (a status or kill from another rule does not use it up); a
 *            stalled request gets no cut, end or garbage from other rules.
 *   timeout  rewrite the watch's timeoutSeconds (the server closes watches early)
 *   delay    wait `ms` before forwarding (added latency)
 * `count` limits how many matching requests a rule hits; `every: n` hits every n-th one.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";

export type Verb = "watch" | "list" | "read" | "write" | "any";

export type FaultAction =
  | { type: "status"; code: 429 | 500 | 503; retryAfterSeconds?: number }
  | { type: "kill" }
  | { type: "cut"; afterMs: number }
  | { type: "end"; afterMs: number }
  | { type: "garbage"; afterMs: number }
  | { type: "stall"; afterMs: number }
  | { type: "timeout"; seconds: number }
  | { type: "delay"; ms: number };

export interface ProxyRule {
  on: Verb;
  resource?: string;
  action: FaultAction;
  count?: number;
  every?: number;
}

export interface ProxyStats {
  requests: Record<Exclude<Verb, "any">, number>;
  /** how often each action type was applied */
  applied: Record<string, number>;
  /** when each stall began (ms since the epoch) */
  stalledAt: number[];
}

export interface FaultProxy {
  readonly url: string;
  set(rules: ProxyRule[]): void;
  stats(): ProxyStats;
  /** a kubeconfig (YAML text) that reaches the API server through the proxy with `token` */
  kubeconfig(token: string, namespace: string): string;
  stop(): Promise<void>;
}

function classify(req: IncomingMessage): { verb: Exclude<Verb, "any">; resource: string } {
  const url = new URL(req.url ?? "/", "http://x");
  const parts = url.pathname.split("/").filter(Boolean);
  // /api/v1/namespaces/ns/pods[/name] or /apis/group/v/namespaces/ns/plural[/name]
  const rest = parts[0] === "api" ? parts.slice(2) : parts.slice(3);
  const scoped = rest[0] === "namespaces" && rest.length >= 3 ? rest.slice(2) : rest;
  const resource = scoped[0] ?? "";
  const named = scoped.length >= 2;
  if (req.method !== "GET") return { verb: "write", resource };
  if (url.searchParams.get("watch") === "true") return { verb: "watch", resource };
  return { verb: named ? "read" : "list", resource };
}

export async function startFaultProxy(opts: { server: string; caFile: string }): Promise<FaultProxy> {
  const upstream = new URL(opts.server);
  const ca = readFileSync(opts.caFile);
  let rules: { rule: ProxyRule; hits: number; seen: number }[] = [];
  let stats: ProxyStats = { requests: { watch: 0, list: 0, read: 0, write: 0 }, applied: {}, stalledAt: [] };
  const sockets = new Set<import("node:net").Socket>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const { verb, resource } = classify(req);
    stats.requests[verb]++;
    const actions: FaultAction[] = [];
    const hit: (typeof rules)[number][] = [];
    for (const r of rules) {
      if (r.rule.on !== "any" && r.rule.on !== verb) continue;
      if (r.rule.resource !== undefined && r.rule.resource !== resource) continue;
      r.seen++;
      if (r.rule.count !== undefined && r.hits >= r.rule.count) continue;
      if (r.rule.every !== undefined && r.seen % r.rule.every !== 0) continue;
      hit.push(r);
      actions.push(r.rule.action);
    }
    const answered = actions.some((a) => a.type === "kill" || a.type === "status");
    for (const r of hit) {
      if (answered && r.rule.action.type === "stall") continue;
      r.hits++;
      stats.applied[r.rule.action.type] = (stats.applied[r.rule.action.type] ?? 0) + 1;
    }
    for (const a of actions) if (a.type === "delay") await new Promise((r) => setTimeout(r, a.ms));
    const status = actions.find((a) => a.type === "status");
    if (actions.some((a) => a.type === "kill")) {
      req.socket.destroy();
      return;
    }
    if (status) {
      const reason = { 429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable" }[status.code];
      const headers: Record<string, string> = { "Content-Type": "application/json" };
      if (status.code === 429) headers["Retry-After"] = String(status.retryAfterSeconds ?? 1);
      res.writeHead(status.code, headers);
      res.end(
        JSON.stringify({
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          message: `injected by the fault proxy (${status.code})`,
          reason,
          code: status.code,
        }),
      );
      return;
    }
    const url = new URL(req.url ?? "/", upstream);
    const timeout = actions.find((a) => a.type === "timeout");
    if (timeout && verb === "watch") url.searchParams.set("timeoutSeconds", String(timeout.seconds));
    const headers = { ...req.headers, host: upstream.host };
    const up = httpsRequest(url, { method: req.method, headers, ca }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      // A stall from the first byte: the headers and nothing after them (piping first would let
      // the events already on their way through).
      if (actions.some((a) => a.type === "stall" && a.afterMs === 0)) {
        res.flushHeaders();
        stats.stalledAt.push(Date.now());
        upRes.on("error", () => {});
        upRes.destroy();
        return;
      }
      upRes.pipe(res);
      // A stalled stream is only that: no cut, end or garbage line on top (any of them would
      // wake the client up and hide the stall).
      const stalled = actions.some((a) => a.type === "stall");
      for (const a of actions) {
        if (stalled && a.type !== "stall") continue;
        if (a.type === "cut")
          setTimeout(() => {
            upRes.destroy();
            req.socket.destroy();
          }, a.afterMs);
        if (a.type === "end")
          setTimeout(() => {
            upRes.unpipe(res);
            upRes.destroy();
            res.end();
          }, a.afterMs);
        if (a.type === "garbage") setTimeout(() => res.write("<html>502 Bad Gateway</html>\n"), a.afterMs);
        if (a.type === "stall")
          setTimeout(() => {
            stats.stalledAt.push(Date.now());
            upRes.on("error", () => {});
            upRes.unpipe(res);
            upRes.destroy();
          }, a.afterMs);
      }
    });
    up.on("error", () => req.socket.destroy());
    res.on("close", () => up.destroy());
    req.pipe(up);
  };

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch(() => req.socket.destroy());
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    set(next) {
      rules = next.map((rule) => ({ rule, hits: 0, seen: 0 }));
      stats = { requests: { watch: 0, list: 0, read: 0, write: 0 }, applied: {}, stalledAt: [] };
    },
    stats: () => structuredClone(stats),
    kubeconfig: (token, namespace) =>
      [
        "apiVersion: v1",
        "kind: Config",
        `clusters: [{name: proxy, cluster: {server: "${url}"}}]`,
        `users: [{name: proxy, user: {token: "${token}"}}]`,
        `contexts: [{name: proxy, context: {cluster: proxy, user: proxy, namespace: ${namespace}}}]`,
        "current-context: proxy",
        "",
      ].join("\n"),
    async stop() {
      rules = [];
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
