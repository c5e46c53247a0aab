/**
 * Kubeconfig and connection handling of the built CLI, without a cluster: merged KUBECONFIG
 * files (first value wins), bad kubeconfig input (exit 2, naming the file and field, before any
 * request), and a server that is not there (exit 1 at once, naming server, context and a fix,
 * no retries).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { describe, it } from "node:test";
import { BIN, cleanEnv, virtwork } from "./cli.ts";

const dir = mkdtempSync(join(tmpdir(), "virtwork-connect-"));
let n = 0;

function kubeconfig(opts: {
  server?: string;
  cluster?: Record<string, unknown>;
  user?: Record<string, unknown>;
  name?: string;
  current?: boolean;
}): string {
  const file = join(dir, `kc-${n++}.yaml`);
  const name = opts.name ?? "c";
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server: opts.server ?? "http://127.0.0.1:9", ...opts.cluster } }],
    users: [{ name, user: opts.user ?? { token: "t" } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: "default" } }],
    ...(opts.current === false ? {} : { "current-context": name }),
  };
  writeFileSync(file, JSON.stringify(doc)); // JSON is YAML
  return file;
}

/** A port on which nothing listens (bound once, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const status = (env: Record<string, string>) => {
  const t0 = Date.now();
  const res = virtwork(["status", "-n", "default"], { env });
  return { ...res, ms: Date.now() - t0 };
};

describe("bad kubeconfig input: exit 2 before any request, naming the file and field", () => {
  const cases: [string, Parameters<typeof kubeconfig>[0], RegExp][] = [
    [
      "a missing CA file",
      { cluster: { "certificate-authority": "no-ca.crt" } },
      /clusters\[name=c\]\.cluster\.certificate-authority: file \S+no-ca\.crt does not exist/,
    ],
    [
      "a missing client certificate",
      { user: { "client-certificate": "/nonexistent/c.crt", "client-key": "/nonexistent/c.key" } },
      /users\[name=c\]\.user\.client-certificate: file \/nonexistent\/c\.crt does not exist/,
    ],
    [
      "a missing client key",
      { user: { "client-certificate-data": "eA==", "client-key": "k.key" } },
      /users\[name=c\]\.user\.client-key: file \S+k\.key does not exist/,
    ],
    [
      "a missing token file",
      { user: { "token-file": "/nonexistent/token" } },
      /users\[name=c\]\.user\.token-file: file \/nonexistent\/token does not exist/,
    ],
    [
      "an invalid server URL",
      { server: "api.example.com:6443" },
      /clusters\[name=c\]\.cluster\.server: .* must start with https:\/\//,
    ],
    [
      "a server that is no URL",
      { server: "::nope" },
      /clusters\[name=c\]\.cluster\.server: "::nope" is not a valid URL/,
    ],
    [
      "a missing exec plugin",
      {
        user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "virtwork-no-such-plugin" } },
      },
      /users\[name=c\]\.user\.exec\.command: "virtwork-no-such-plugin" is not installed \(not found on PATH\)/,
    ],
    [
      "an invalid proxy-url",
      { cluster: { "proxy-url": "not a url" } },
      /clusters\[name=c\]\.cluster\.proxy-url: "not a url" is not a valid URL/,
    ],
  ];
  for (const [what, opts, pattern] of cases) {
    it(what, () => {
      const file = kubeconfig(opts);
      const res = status({ KUBECONFIG: file });
      assert.equal(res.status, 2, res.stderr);
      const errors = res.stderr.split("\n").filter((l) => l.startsWith("Error:"));
      assert.equal(errors.length, 1, res.stderr);
      assert.ok(errors[0]?.includes(file), `names the file: ${errors[0]}`);
      assert.match(errors[0] ?? "", pattern);
    });
  }
});

describe("several KUBECONFIG files merge like kubectl", () => {
  it("the same cluster/user/context names in two files: no error, the first file wins", async () => {
    const first = await closedPort();
    const a = kubeconfig({ server: `http://127.0.0.1:${first}`, current: false });
    const b = kubeconfig({ server: "http://127.0.0.1:9" });
    const res = status({ KUBECONFIG: [a, b].join(delimiter) });
    assert.doesNotMatch(res.stderr, /Duplicate/);
    assert.equal(res.status, 1, res.stderr);
    // current-context came from the second file, the cluster "c" from the first.
    assert.match(
      res.stderr,
      new RegExp(`cannot reach the API server http://127\\.0\\.0\\.1:${first} \\(context "c"`),
    );
  });
});

describe("a server that is not there fails on the first call, at once", () => {
  it("connection refused: names server, context and a fix; no retries", async () => {
    const port = await closedPort();
    const file = kubeconfig({ server: `https://127.0.0.1:${port}` });
    const res = status({ KUBECONFIG: file });
    assert.equal(res.status, 1, res.stderr);
    assert.match(
      res.stderr,
      new RegExp(
        `Error: cannot reach the API server https://127\\.0\\.0\\.1:${port} \\(context "c", from KUBECONFIG \\(${file}\\)\\): connection refused \\(ECONNREFUSED\\); check that the cluster is up`,
      ),
    );
    assert.doesNotMatch(res.stderr, /retrying/);
    assert.ok(res.ms < 10_000, `took ${res.ms} ms`);
  });

  it("unknown host: names the server and says to check the name", () => {
    const file = kubeconfig({ server: "https://virtwork-test.invalid:6443" });
    const res = status({ KUBECONFIG: file });
    assert.equal(res.status, 1, res.stderr);
    assert.match(
      res.stderr,
      /Error: cannot reach the API server https:\/\/virtwork-test\.invalid:6443 \(context "c",.*unknown host \(\w+\): check the server name/,
    );
    assert.doesNotMatch(res.stderr, /retrying/);
  });
});

/** The CLI as a child process without blocking this process (whose proxy must keep answering). */
function statusAsync(env: Record<string, string>): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, "status", "-n", "default"],
      { env: cleanEnv(env), timeout: 60_000 },
      (err, _stdout, stderr) =>
        resolve({
          status: err ? (typeof err.code === "number" ? err.code : null) : 0,
          stderr: String(stderr),
        }),
    );
  });
}

describe("proxies: HTTPS_PROXY / NO_PROXY and the kubeconfig's proxy-url", () => {
  /** A CONNECT proxy that records the targets and refuses them (no upstream needed). */
  async function refusingProxy(): Promise<{ url: string; targets: string[]; close: () => void }> {
    const targets: string[] = [];
    const srv = createHttpServer();
    srv.on("connect", (req, socket) => {
      targets.push(req.url ?? "");
      socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    return {
      url: `http://127.0.0.1:${(srv.address() as { port: number }).port}`,
      targets,
      close: () => srv.close(),
    };
  }

  it("HTTPS_PROXY carries the request; NO_PROXY bypasses it", async () => {
    const proxy = await refusingProxy();
    try {
      const file = kubeconfig({ server: "https://virtwork-test.invalid:6443" });
      const via = await statusAsync({ KUBECONFIG: file, HTTPS_PROXY: proxy.url });
      assert.equal(via.status, 1, via.stderr);
      assert.match(
        via.stderr,
        /Error: cannot reach the API server .*: the proxy refused the connection \(ERR_PROXY_TUNNEL\): check HTTPS_PROXY/,
      );
      assert.ok(proxy.targets.includes("virtwork-test.invalid:6443"), `CONNECTs: ${proxy.targets}`);
      const before = proxy.targets.length;
      const bypass = await statusAsync({ KUBECONFIG: file, HTTPS_PROXY: proxy.url, NO_PROXY: ".invalid" });
      assert.equal(bypass.status, 1, bypass.stderr);
      assert.equal(proxy.targets.length, before, "NO_PROXY: the proxy was not asked");
      assert.match(bypass.stderr, /unknown host/);
    } finally {
      proxy.close();
    }
  });

  it("proxy-url in the kubeconfig wins over the environment", async () => {
    const proxy = await refusingProxy();
    try {
      const file = kubeconfig({
        server: "https://virtwork-test.invalid:6443",
        cluster: { "proxy-url": proxy.url },
      });
      const res = await statusAsync({ KUBECONFIG: file, NO_PROXY: "*" });
      assert.equal(res.status, 1, res.stderr);
      assert.ok(proxy.targets.includes("virtwork-test.invalid:6443"), `CONNECTs: ${proxy.targets}`);
    } finally {
      proxy.close();
    }
  });
});

describe("credentials", () => {
  it("an exec plugin that exists passes the check (and is run for the first request)", () => {
    const plugin = join(dir, "plugin.sh");
    const marker = join(dir, "plugin-ran");
    writeFileSync(
      plugin,
      `#!/bin/sh\ntouch '${marker}'\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"x"}}'\n`,
    );
    chmodSync(plugin, 0o755);
    const file = kubeconfig({
      server: "http://127.0.0.1:9",
      user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: plugin } },
    });
    const res = status({ KUBECONFIG: file });
    assert.equal(res.status, 1, res.stderr);
    assert.match(res.stderr, /cannot reach the API server/);
    assert.ok(existsSync(marker), "the plugin was run for the first request");
  });
});
