/**
 * Issue 20 acceptance, connections and credentials against the real local API server:
 *  - Ctrl-C while preflight's discovery call hangs (the fault proxy delays it) exits 130 at once;
 *  - a TLS failure on the first call (the cluster's CA left out) fails at once, naming the
 *    server, the context and the fix, with no retries;
 *  - an exec credential plugin whose token expires every 2 s is run again during a wait that
 *    lasts longer (the server closes each watch after 1 s, so the wait keeps sending new
 *    requests, each with a valid token), and the run ends ready;
 *  - the kubeconfig's proxy-url carries every request through an HTTP CONNECT proxy.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { startFaultProxy } from "../cluster/fault-proxy.ts";
import { closeAll, newNamespace, startCluster, waitFor } from "./harness.ts";
import { FAST, parseJson, spawnVirtwork, virtwork } from "./ops-cli.ts";

after(closeAll);

const dir = mkdtempSync(join(tmpdir(), "virtwork-connect-it-"));
const write = (name: string, doc: unknown) => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });
  return file;
};
const config = (name: string, cluster: Record<string, unknown>, user: Record<string, unknown>, ns: string) =>
  write(name, {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "local", cluster }],
    users: [{ name: "me", user }],
    contexts: [{ name: "it", context: { cluster: "local", user: "me", namespace: ns } }],
    "current-context": "it",
  });

describe("aborting and failing fast", () => {
  test("Ctrl-C while preflight waits for the API server exits 130 at once", async () => {
    const cluster = await startCluster();
    const ns = await newNamespace({ prefix: "sigpre" });
    const proxy = await startFaultProxy({ server: cluster.server, caFile: cluster.caFile });
    try {
      // Discovery (GET /apis/kubevirt.io/v1) hangs for a minute.
      proxy.set([{ on: "list", resource: "", action: { type: "delay", ms: 60_000 } }]);
      const token = cluster.kubeConfig("admin").getCurrentUser()?.token ?? "";
      const kubeconfig = join(dir, "sigpre.kubeconfig");
      writeFileSync(kubeconfig, proxy.kubeconfig(token, ns.name), { mode: 0o600 });
      const run = await spawnVirtwork(["run", "-n", ns.name, "--workloads", "cpu", "-v"], { kubeconfig });
      await waitFor(() => run.stderrSoFar().includes('"msg":"deploying"'), {
        timeoutMs: 60_000,
        what: "deploying",
      });
      await waitFor(() => proxy.stats().requests.list > 0, { timeoutMs: 30_000, what: "the discovery call" });
      const t0 = Date.now();
      run.child.kill("SIGINT");
      const res = await run.result;
      assert.equal(res.code, 130, res.stderr);
      assert.ok(Date.now() - t0 < 5_000, `exited ${Date.now() - t0} ms after SIGINT`);
      assert.match(res.stderr, /Interrupted: nothing created/);
    } finally {
      await proxy.stop();
    }
  });

  test("a TLS failure on the first call fails at once, naming server, context and the fix", async () => {
    const cluster = await startCluster();
    const token = cluster.kubeConfig("admin").getCurrentUser()?.token ?? "";
    const file = config("notls.kubeconfig", { server: cluster.server }, { token }, "default");
    const res = await virtwork(["status", "-n", "default"], { kubeconfig: file });
    assert.equal(res.code, 1, res.stderr);
    const errors = res.stderr.split("\n").filter((l) => l.startsWith("Error:"));
    assert.equal(errors.length, 1, res.stderr);
    assert.match(
      errors[0] ?? "",
      new RegExp(
        `cannot reach the API server ${cluster.server.replace(/[.]/g, "\\.")} \\(context "it", from KUBECONFIG .*\\): TLS handshake failed \\(\\w+\\): check certificate-authority`,
      ),
    );
    assert.doesNotMatch(res.stderr, /retrying/);
    assert.ok(res.ms < 15_000, `took ${res.ms} ms`);
  });
});

describe("credentials and proxies like kubectl", () => {
  test("an exec plugin's short-lived token is refreshed during a long wait", async () => {
    const cluster = await startCluster();
    const ns = await newNamespace({ prefix: "exectok" });
    // Running takes ~8 s, longer than several token lifetimes.
    await ns.simulate({ delays: { scheduled: 1000, running: 6000, dataVolume: 300 } });
    const token = cluster.kubeConfig("admin").getCurrentUser()?.token ?? "";
    const counter = join(dir, "exec-count");
    writeFileSync(counter, "");
    const plugin = join(dir, "exec-plugin.sh");
    writeFileSync(
      plugin,
      `#!/bin/sh
echo call >> '${counter}'
exp=$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}' '${token}' "$exp"
`,
    );
    chmodSync(plugin, 0o755);
    // Watches end after 1 s (through the fault proxy), so the wait re-watches every second.
    const proxy = await startFaultProxy({ server: cluster.server, caFile: cluster.caFile });
    proxy.set([{ on: "watch", action: { type: "timeout", seconds: 1 } }]);
    const file = config(
      "exec.kubeconfig",
      { server: proxy.url },
      { exec: { apiVersion: "client.authentication.k8s.io/v1", command: plugin, interactiveMode: "Never" } },
      ns.name,
    );
    const res = await virtwork(
      ["run", "-n", ns.name, "--workloads", "cpu", "-o", "json", "--timeout", "120"],
      {
        kubeconfig: file,
      },
    ).finally(() => proxy.stop());
    assert.equal(res.code, 0, res.stderr);
    assert.equal(parseJson<{ outcome: string }>(res).outcome, "ready");
    // One appended line per call: concurrent calls cannot lose a count (a read-then-write
    // counter could read the file while another call had just truncated it).
    const calls = readFileSync(counter, "utf8").split("\n").filter(Boolean).length;
    // Once at start, then again after each expiry, for the next watch request.
    assert.ok(calls >= 3, `the plugin ran ${calls} times during a ${res.ms} ms run`);
  });

  test("proxy-url: every request goes through the HTTP CONNECT proxy", async () => {
    const cluster = await startCluster();
    const ns = await newNamespace({ prefix: "proxyurl" });
    await ns.simulate({ delays: FAST });
    const tunnels: string[] = [];
    const proxy = createServer();
    proxy.on("connect", (req, socket, head) => {
      tunnels.push(req.url ?? "");
      const [host, port] = (req.url ?? "").split(":");
      const up = netConnect(Number(port), host, () => {
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        up.write(head);
        up.pipe(socket);
        socket.pipe(up);
      });
      up.on("error", () => socket.destroy());
      socket.on("error", () => up.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
    try {
      const token = cluster.kubeConfig("admin").getCurrentUser()?.token ?? "";
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
      const file = config(
        "proxy.kubeconfig",
        { server: cluster.server, "certificate-authority": cluster.caFile, "proxy-url": proxyUrl },
        { token },
        ns.name,
      );
      const res = await virtwork(["run", "-n", ns.name, "--workloads", "cpu", "-o", "json"], {
        kubeconfig: file,
      });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(parseJson<{ outcome: string }>(res).outcome, "ready");
      const target = new URL(cluster.server).host;
      assert.ok(tunnels.length > 0 && tunnels.every((t) => t === target), `tunnels: ${tunnels}`);
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });
});
