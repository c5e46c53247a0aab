/**
 * A TLS proxy in front of the test cluster's API server that lets a write through and then
 * loses its answer: the request reaches the API server (the object is stored), the proxy reads
 * the whole response and closes the client's connection without sending it. The client sees
 * a reset, as after a network failure, and cannot know whether the write took effect.
 *
 *   const proxy = await startLossyProxy({ drop: (method, path) => method === "POST" && /virtualmachines$/.test(path), times: 1 });
 *   proxy.kubeconfig(adminKubeconfigText, namespace)   a kubeconfig file pointing at the proxy
 *   proxy.dropped                                       [{ method, path, status }] of the lost answers
 *   await proxy.stop()
 *
 * It serves with the webhook certificate cluster-up issued for 127.0.0.1 (same CA as the API
 * server), so the client's kubeconfig keeps its CA; credentials (bearer tokens) pass through.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCluster } from "./harness.ts";

export interface LossyProxy {
  url: string;
  dropped: { method: string; path: string; status: number }[];
  kubeconfig(namespace: string): string;
  stop(): Promise<void>;
}

export async function startLossyProxy(opts: {
  drop: (method: string, path: string) => boolean;
  times: number;
}): Promise<LossyProxy> {
  const cluster = await startCluster();
  const upstream = new URL(cluster.server);
  const ca = readFileSync(cluster.caFile);
  const agent = new https.Agent({ ca, keepAlive: true });
  let left = opts.times;
  const dropped: LossyProxy["dropped"] = [];
  const server = https.createServer(
    { cert: readFileSync(cluster.webhookCert), key: readFileSync(cluster.webhookKey) },
    (req, res) => {
      const path = req.url ?? "/";
      const pathOnly = path.split("?")[0] ?? path;
      const lose = left > 0 && opts.drop(req.method ?? "GET", pathOnly);
      if (lose) left--;
      const headers = { ...req.headers, host: upstream.host };
      const up = https.request(
        { host: upstream.hostname, port: upstream.port, path, method: req.method, headers, agent },
        (upRes) => {
          if (lose) {
            // Read the answer to the end (the write is done), then lose it.
            upRes.resume();
            upRes.on("end", () => {
              dropped.push({ method: req.method ?? "", path: pathOnly, status: upRes.statusCode ?? 0 });
              req.socket.destroy();
            });
            return;
          }
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on("error", () => res.destroy());
      req.pipe(up);
      res.on("close", () => up.destroy());
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    dropped,
    kubeconfig(namespace) {
      const text = readFileSync(cluster.adminKubeconfig, "utf8")
        .replace(/server: "?https:\/\/[^",\s}]+"?/g, `server: "${url}"`)
        .replace(/namespace: [a-z0-9-]+/g, `namespace: ${namespace}`);
      const f = join(mkdtempSync(join(tmpdir(), "virtwork-lossy-")), "admin.kubeconfig");
      writeFileSync(f, text, { mode: 0o600 });
      return f;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      agent.destroy();
    },
  };
}
