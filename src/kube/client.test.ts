/**
 * Credentials that change while virtwork runs, against a real local HTTP server that checks the
 * Authorization header the way an API server checks bearer tokens: a rotated token file is read
 * again, and an exec plugin is run again once its token expired.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type ClientOptions, KubeClient, WATCH_IDLE_CODE } from "./client.ts";
import { connect } from "./connect.ts";

const dir = mkdtempSync(join(tmpdir(), "virtwork-client-"));
let server: Server;
let url = "";
const accepted = new Set<string>();
const seen: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    const token = (req.headers.authorization ?? "").replace(/^Bearer /, "");
    seen.push(token);
    if (!accepted.has(token)) {
      res.writeHead(401, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", reason: "Unauthorized", code: 401, message: "Unauthorized" }));
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ kind: "NamespaceList", items: [], metadata: { resourceVersion: "1" } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => server.close());

function kubeconfig(user: Record<string, unknown>): string {
  const file = join(dir, `kc-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: { server: url } }],
      users: [{ name: "u", user }],
      contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
      "current-context": "c",
    }),
  );
  return file;
}

async function client(file: string): Promise<KubeClient> {
  const connection = await connect({ kubeconfig: file, env: { PATH: process.env.PATH } });
  return KubeClient.create(connection, { qps: 100, burst: 100 });
}

/** A client with a bearer token against another local server than the shared one. */
async function clientOf(server: Server, options: Partial<ClientOptions>): Promise<KubeClient> {
  const file = kubeconfig({ token: "t" });
  writeFileSync(
    file,
    readFileSync(file, "utf8").replace(
      url,
      `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    ),
  );
  const connection = await connect({ kubeconfig: file, env: { PATH: process.env.PATH } });
  return KubeClient.create(connection, { qps: 100, burst: 100, ...options });
}

const list = (c: KubeClient) => c.request("GET", "/api/v1/namespaces", { call: { verb: "list" } });

describe("credentials that change during a run", () => {
  it("a rotated token file is read again (at the latest on the next 401)", async () => {
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, "old-token\n");
    accepted.clear();
    accepted.add("old-token");
    const c = await client(kubeconfig({ tokenFile }));
    await list(c);
    // The token rotates: the server now only takes the new one.
    writeFileSync(tokenFile, "new-token\n");
    accepted.clear();
    accepted.add("new-token");
    seen.length = 0;
    await list(c);
    assert.deepEqual(seen, ["old-token", "new-token"]);
    c.close();
  });

  it("an exec plugin's token is asked for again once it expired", async () => {
    const counter = join(dir, "exec-count");
    writeFileSync(counter, "0");
    const plugin = join(dir, "exec-plugin.sh");
    // Each call hands out a new token that expires in one second.
    writeFileSync(
      plugin,
      `#!/bin/sh
n=$(( $(cat '${counter}') + 1 ))
echo $n > '${counter}'
exp=$(date -u -d '+1 second' +%Y-%m-%dT%H:%M:%SZ)
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-%s","expirationTimestamp":"%s"}}' "$n" "$exp"
`,
    );
    chmodSync(plugin, 0o755);
    accepted.clear();
    for (let i = 1; i < 20; i++) accepted.add(`exec-${i}`);
    const c = await client(
      kubeconfig({ exec: { apiVersion: "client.authentication.k8s.io/v1", command: plugin } }),
    );
    seen.length = 0;
    await list(c);
    await list(c);
    await new Promise((r) => setTimeout(r, 2500));
    await list(c);
    const calls = Number(readFileSync(counter, "utf8").trim());
    assert.ok(calls >= 2, `plugin ran ${calls} times`);
    assert.equal(seen[0], seen[1], "the token is reused while it is valid");
    assert.notEqual(seen[2], seen[0], `a fresh token after expiry: ${seen.join(", ")}`);
    c.close();
  });

  it('a watch stopped while its exec plugin runs ends quietly (no raw "socket hang up" escapes)', async () => {
    // The plugin takes a while and its token is always expired, so every request runs it again.
    const plugin = join(dir, "slow-plugin.sh");
    writeFileSync(
      plugin,
      `#!/bin/sh
sleep 0.6
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"slow","expirationTimestamp":"2000-01-01T00:00:00Z"}}'
`,
    );
    chmodSync(plugin, 0o755);
    accepted.clear();
    accepted.add("slow");
    const c = await client(
      kubeconfig({ exec: { apiVersion: "client.authentication.k8s.io/v1", command: plugin } }),
    );
    // Before the fix, a request created after the abort was destroyed before its "error"
    // listener existed: Node raised "socket hang up" as an uncaught error and the CLI died with
    // `Error: socket hang up` (the connect.test.ts exec-plugin flake on a loaded machine).
    const escaped: unknown[] = [];
    const onUncaught = (err: unknown) => escaped.push(err);
    process.prependListener("uncaughtException", onUncaught);
    try {
      const stop = new AbortController();
      setTimeout(() => stop.abort(), 150);
      const version = await c.watch(
        "/api/v1/namespaces",
        { resourceVersion: "7" },
        { verb: "watch" },
        () => undefined,
        stop.signal,
      );
      assert.equal(version, "7", "an aborted watch resolves with the version it started from");
      // A destroyed request reports its error on a later tick: give it time to surface.
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(escaped.map(String), []);
    } finally {
      process.removeListener("uncaughtException", onUncaught);
      c.close();
    }
  });

  it("a server that drops the connection before answering: a wrapped, retried ECONNRESET, not a raw error", async () => {
    let n = 0;
    const flaky = createServer((req, res) => {
      n++;
      // Every other request: close the socket with the request read but no headers sent
      // (what Node reports as "socket hang up").
      if (n % 2 === 1) return req.socket.destroy();
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ kind: "NamespaceList", items: [], metadata: { resourceVersion: "1" } }));
    });
    await new Promise<void>((r) => flaky.listen(0, "127.0.0.1", () => r()));
    try {
      const file = kubeconfig({ token: "t" });
      const text = readFileSync(file, "utf8").replace(
        url,
        `http://127.0.0.1:${(flaky.address() as { port: number }).port}`,
      );
      writeFileSync(file, text);
      const retried: string[] = [];
      const connection = await connect({ kubeconfig: file, env: { PATH: process.env.PATH } });
      const c = await KubeClient.create(connection, {
        qps: 100,
        burst: 100,
        retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
        onRetry: (_call, err) => retried.push(`${(err as Error).name} ${(err as { code?: string }).code}`),
      });
      for (let i = 0; i < 3; i++) await list(c);
      assert.ok(retried.length >= 1, "the hang-up was retried");
      assert.ok(
        retried.every((r) => r === "KubeNetworkError ECONNRESET"),
        `retried: ${retried.join(", ")}`,
      );
      // Without retries the caller gets the wrapped error naming the server and context.
      const once = await KubeClient.create(connection, {
        qps: 100,
        burst: 100,
        retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      });
      n = 0;
      await assert.rejects(list(once), (err: Error) => {
        assert.equal(err.name, "KubeNetworkError");
        assert.match(
          err.message,
          /^list: cannot reach the API server http:\/\/127\.0\.0\.1:\d+ \(context "c".*socket hang up \(ECONNRESET\)/,
        );
        return true;
      });
      c.close();
      once.close();
    } finally {
      flaky.close();
    }
  });
});

describe("watches and the rate limit", () => {
  it("every watch request waits for the client's rate limiter, like any other call", async () => {
    const times: number[] = [];
    const ends = createServer((_req, res) => {
      times.push(Date.now());
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(); // the server closes the watch at once
    });
    await new Promise<void>((r) => ends.listen(0, "127.0.0.1", () => r()));
    try {
      const c = await clientOf(ends, { qps: 4, burst: 1 });
      for (let i = 0; i < 5; i++) await c.watch("/api/v1/namespaces", {}, { verb: "watch" }, () => undefined);
      c.close();
      assert.equal(times.length, 5);
      // 4 QPS with a burst of 1: five watches need at least four gaps of 250 ms.
      const spread = (times.at(-1) ?? 0) - (times[0] ?? 0);
      assert.ok(spread >= 900, `5 watches in ${spread} ms at 4 QPS`);
    } finally {
      ends.close();
    }
  });
});

describe("a watch that stays open but sends nothing", () => {
  it("is given up after the idle bound with EWATCHIDLE, and listWatch resumes it at once from the last version", async () => {
    const watches: string[] = [];
    // The first watch sends one event and then stalls (headers sent, connection open, no data);
    // every later one sends a second event and ends.
    const stalls = createServer((req, res) => {
      const u = new URL(req.url ?? "/", "http://x");
      if (u.searchParams.get("watch") !== "true") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ kind: "NamespaceList", items: [], metadata: { resourceVersion: "1" } }));
        return;
      }
      watches.push(u.searchParams.get("resourceVersion") ?? "");
      res.writeHead(200, { "Content-Type": "application/json" });
      if (watches.length === 1) {
        res.write(
          `${JSON.stringify({ type: "ADDED", object: { metadata: { name: "a", resourceVersion: "2" } } })}\n`,
        );
        return; // stall: never end, never write again
      }
      res.end(
        `${JSON.stringify({ type: "ADDED", object: { metadata: { name: "b", resourceVersion: "3" } } })}\n`,
      );
    });
    await new Promise<void>((r) => stalls.listen(0, "127.0.0.1", () => r()));
    try {
      const c = await clientOf(stalls, { watchIdleMs: 400 });
      const started = Date.now();
      await assert.rejects(
        c.watch("/api/v1/namespaces", { resourceVersion: "1" }, { verb: "watch" }, () => undefined),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, WATCH_IDLE_CODE);
          assert.match(err.message, /sent nothing for 0.4s/);
          return true;
        },
      );
      const took = Date.now() - started;
      assert.ok(took >= 350 && took < 5000, `gave up after ${took} ms (bound 400 ms)`);

      watches.length = 0;
      const names: string[] = [];
      const resumes: string[] = [];
      const { KubeApi } = await import("./api.ts");
      const { RESOURCES } = await import("./resources.ts");
      const { listWatch } = await import("./watch.ts");
      const stop = new AbortController();
      await listWatch(new KubeApi(c), {
        resource: RESOURCES.namespaces,
        namespace: "",
        signal: stop.signal,
        onList: () => {},
        onEvent: (e) => {
          names.push(e.object.metadata?.name ?? "");
        },
        done: () => names.includes("b"),
        onResume: (how, why, delayMs) => resumes.push(`${how} ${delayMs} ${why}`),
      });
      c.close();
      assert.deepEqual(names, ["a", "b"]);
      // resumed from the version the stalled stream last delivered, with no backoff
      assert.deepEqual(watches, ["1", "2"]);
      assert.equal(resumes.length, 1, resumes.join("; "));
      assert.match(resumes[0] ?? "", /^rewatch 0 .*sent nothing for 0.4s/);
    } finally {
      stalls.closeAllConnections();
      stalls.close();
    }
  });
});
