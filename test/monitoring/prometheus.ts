/**
 * A real Prometheus (Debian's package; scripts/install-monitoring-tools.sh) started by a test
 * on loopback, with its own config and data in a temp dir:
 *
 *   const prom = await startPrometheus({ targets: ["127.0.0.1:9910"], scrapeInterval: "1s" });
 *   prom.url      // http://127.0.0.1:<port>
 *   await prom.stop()   // TERM (KILL after 10 s) the one process it started, removes the dir
 *
 * `basicAuth` turns on Prometheus' web config, so a request without the password gets 401.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";

export interface PrometheusProcess {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

export function havePrometheus(): boolean {
  try {
    execFileSync("prometheus", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function ready(url: string, child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${log()}`);
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.status === 200 || res.status === 401) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`prometheus not ready after ${timeoutMs} ms: ${log()}`);
}

export async function startPrometheus(opts: {
  targets: string[];
  scrapeInterval?: string;
  basicAuth?: { user: string; bcryptHash: string };
}): Promise<PrometheusProcess> {
  const dir = mkdtempSync(join(tmpdir(), "virtwork-prometheus-"));
  const interval = opts.scrapeInterval ?? "1s";
  writeFileSync(
    join(dir, "prometheus.yml"),
    stringify({
      global: { scrape_interval: interval, evaluation_interval: interval },
      scrape_configs: [
        {
          job_name: "kubevirt-virt-handler",
          honor_labels: true,
          scrape_interval: interval,
          scrape_timeout: interval,
          static_configs: [{ targets: opts.targets }],
        },
      ],
    }),
  );
  const args = [
    `--config.file=${join(dir, "prometheus.yml")}`,
    `--storage.tsdb.path=${join(dir, "data")}`,
    "--log.level=warn",
  ];
  if (opts.basicAuth) {
    writeFileSync(
      join(dir, "web.yml"),
      stringify({ basic_auth_users: { [opts.basicAuth.user]: opts.basicAuth.bcryptHash } }),
    );
    args.push(`--web.config.file=${join(dir, "web.yml")}`);
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn("prometheus", [...args, `--web.listen-address=127.0.0.1:${port}`], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    try {
      await ready(url, child, () => stderr, 60_000);
    } catch (err) {
      lastError = err;
      child.kill("SIGKILL");
      continue;
    }
    return {
      url,
      dir,
      async stop() {
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once("exit", r));
          child.kill("SIGTERM");
          const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
          await exited;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}
