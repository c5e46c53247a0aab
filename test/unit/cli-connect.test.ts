/**
 * Kubeconfig and connection handling of the built CLI, without a cluster: merged KUBECONFIG
 * files (first value wins), bad kubeconfig input (exit 2, naming the file and field, before any
 * request), and a server that is not there (exit 1 at once, naming server, context and a fix,
 * no retries).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { describe, it } from "node:test";
import { BIN, cleanEnv, virtwork } from "./cli.ts";

const dir = mkdtempSync(join(tmpdir(), "virtwork-connect-"));
const emptyFile = join(dir, "empty-token");
writeFileSync(emptyFile, "\n");
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
      { user: { tokenFile: "/nonexistent/token" } },
      /users\[name=c\]\.user\.tokenFile: file \/nonexistent\/token does not exist/,
    ],
    [
      "an empty token file",
      { user: { tokenFile: emptyFile } },
      /users\[name=c\]\.user\.tokenFile: \S+empty-token is empty/,
    ],
    [
      "a token file that is a directory",
      { user: { tokenFile: dir } },
      /users\[name=c\]\.user\.tokenFile: cannot read \S+: is a directory/,
    ],
    [
      "token-file, which is not kubectl's field name",
      { user: { "token-file": "/nonexistent/token" } },
      /users\[name=c\]\.user\.token-file is not a kubeconfig field: the token file's field is tokenFile/,
    ],
    [
      "an exec plugin without apiVersion",
      { user: { exec: { command: "sh" } } },
      /users\[name=c\]\.user\.exec\.apiVersion is missing/,
    ],
    [
      "an exec plugin that must be interactive",
      {
        user: {
          exec: { apiVersion: "client.authentication.k8s.io/v1", command: "sh", interactiveMode: "Always" },
        },
      },
      /users\[name=c\]\.user\.exec\.interactiveMode is Always, but virtwork runs credential plugins without a terminal/,
    ],
    [
      "an auth-provider kubectl no longer has",
      { user: { "auth-provider": { name: "gcp", config: {} } } },
      /users\[name=c\]\.user\.auth-provider: "gcp" is not supported \(kubectl removed it in 1\.26\); use its exec credential plugin/,
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

describe("exec credential plugins that fail: exit 1, one line naming the plugin and its stderr, never a hang (issue 32)", () => {
  const V1 = "client.authentication.k8s.io/v1";
  const script = (name: string, body: string) => {
    const path = join(dir, `${name}.sh`);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  };
  const cases: [string, string, RegExp, Record<string, string>?][] = [
    [
      "a plugin that hangs is stopped after the bound",
      script("hangs", "echo 'waiting for the browser login' >&2\nexec sleep 600"),
      /exec plugin "\S+hangs\.sh" did not finish within 2s and was stopped \(stderr: waiting for the browser login\); run it by hand/,
      { VIRTWORK_EXEC_PLUGIN_TIMEOUT: "2" },
    ],
    [
      "a plugin that fails names its stderr",
      script("fails", "echo 'error: token expired, run sso login' >&2\nexit 3"),
      /exec plugin "\S+fails\.sh" exited 3: error: token expired, run sso login/,
    ],
    [
      "a plugin that prints no JSON",
      script("garbage", "echo 'Please log in'"),
      /exec plugin "\S+garbage\.sh" did not print an ExecCredential \(not JSON: "Please log in"\)/,
    ],
    [
      "a plugin whose ExecCredential has no status (was: Cannot read properties of undefined)",
      script("nostatus", `echo '{"apiVersion":"${V1}","kind":"ExecCredential"}'`),
      /exec plugin "\S+nostatus\.sh" printed an ExecCredential with neither status\.token nor a client certificate/,
    ],
    [
      "a plugin that answers another apiVersion",
      script(
        "oldapi",
        `echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"x"}}'`,
      ),
      /answered with apiVersion client\.authentication\.k8s\.io\/v1beta1, but the kubeconfig asks for client\.authentication\.k8s\.io\/v1/,
    ],
  ];
  for (const [what, plugin, pattern, env] of cases) {
    it(what, () => {
      const file = kubeconfig({ user: { exec: { apiVersion: V1, command: plugin } } });
      const res = status({ KUBECONFIG: file, ...env });
      assert.equal(res.status, 1, res.stderr);
      const errors = res.stderr.split("\n").filter((l) => l.startsWith("Error:"));
      assert.equal(errors.length, 1, res.stderr);
      assert.match(errors[0] ?? "", /users\[name=c\]\.user\.exec: /);
      assert.match(errors[0] ?? "", pattern);
      assert.doesNotMatch(res.stderr, /Cannot read properties|TypeError/);
      assert.ok(res.ms < 10_000, `${what}: took ${res.ms} ms`);
    });
  }

  it("the plugin gets KUBERNETES_EXEC_INFO and the kubeconfig's env, and its token is sent", async () => {
    const seen: string[] = [];
    const server = createHttpServer((req, res) => {
      seen.push(req.headers.authorization ?? "");
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ kind: "List", items: [], metadata: { resourceVersion: "1" } }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    try {
      const info = join(dir, "exec-info.json");
      const plugin = script(
        "good",
        `printf '%s' "$KUBERNETES_EXEC_INFO" > '${info}'\necho "{\\"apiVersion\\":\\"${V1}\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"tok-$MY_SUFFIX\\"}}"`,
      );
      const file = kubeconfig({
        server: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        user: { exec: { apiVersion: V1, command: plugin, env: [{ name: "MY_SUFFIX", value: "42" }] } },
      });
      const res = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          [BIN, "status", "-n", "default"],
          { env: cleanEnv({ KUBECONFIG: file }) },
          (err, _o, stderr) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr: String(stderr) }),
        );
        child.stdin?.end();
      });
      assert.ok(seen.length > 0, `no request reached the server: ${res.stderr}`);
      assert.ok(
        seen.every((a) => a === "Bearer tok-42"),
        seen.join(", "),
      );
      const execInfo = JSON.parse(readFileSync(info, "utf8"));
      assert.deepEqual(execInfo, { apiVersion: V1, kind: "ExecCredential", spec: { interactive: false } });
    } finally {
      server.close();
    }
  });
});
