/** Running the real tools: processes, temp dirs, and the reasons a test cannot run here. */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      // No input: no stdin pipe, so a child that exits early cannot make the write fail (EPIPE).
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 60_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => {
      stdout += d;
    });
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    if (child.stdin) {
      // A child may exit before reading its input; that is its answer, not a test failure.
      child.stdin.on("error", () => {});
      child.stdin.end(options.input);
    }
  });
}

export function runSync(cmd: string, args: readonly string[], options: RunOptions = {}): RunResult {
  const r = spawnSync(cmd, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    input: options.input ?? "",
    encoding: "utf8",
    timeout: options.timeoutMs ?? 60_000,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function which(cmd: string): string | undefined {
  const r = spawnSync("bash", ["-c", `PATH="${SYSTEM_PATH}:$PATH" command -v "$1"`, "_", cmd], {
    encoding: "utf8",
  });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const INSTALL_HINT = "run scripts/install-guest-tools.sh (make guest-artifacts does)";

/** A skip reason when a tool is missing, else false. */
export function needTools(...cmds: string[]): string | false {
  const missing = cmds.filter((c) => !which(c));
  return missing.length ? `needs ${missing.join(", ")}: ${INSTALL_HINT}` : false;
}

export const isRoot = process.getuid?.() === 0;

/** Skip reason for tests that need root: loop devices, mounts, network namespaces. */
export function needRoot(what: string): string | false {
  return isRoot ? false : `needs root for ${what} (CI runs as root: .ci/run -> make test)`;
}

/** Whether the kernel has the netem qdisc (probed in a throwaway network namespace). */
export function netemSupport(): { ok: true } | { ok: false; reason: string } {
  if (!isRoot) return { ok: false, reason: "needs root to probe sch_netem" };
  const ns = `vw-probe-${process.pid}`;
  const add = runSync("ip", ["netns", "add", ns]);
  if (add.code !== 0) return { ok: false, reason: `cannot create a network namespace: ${add.stderr.trim()}` };
  try {
    runSync("ip", ["-n", ns, "link", "add", "p0", "type", "veth", "peer", "name", "p1"]);
    const r = runSync("ip", [
      "netns",
      "exec",
      ns,
      "tc",
      "qdisc",
      "add",
      "dev",
      "p0",
      "root",
      "netem",
      "delay",
      "1ms",
    ]);
    return r.code === 0
      ? { ok: true }
      : { ok: false, reason: `the kernel lacks sch_netem (tc: ${r.stderr.trim()})` };
  } finally {
    runSync("ip", ["netns", "del", ns]);
  }
}

/** A fresh temp dir and its removal. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `virtwork-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The shell scripts of a guest: written files with a shell shebang. */
export function isShellScript(content: string): boolean {
  return /^#!\s*(\/usr)?\/bin\/(env\s+)?(ba)?sh\b/.test(content);
}

/** Parses a unit file into [section, key, value] entries, in order. */
export function parseUnit(text: string): { section: string; key: string; value: string }[] {
  const out: { section: string; key: string; value: string }[] = [];
  let section = "";
  for (const line of text.split("\n")) {
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1] ?? "";
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (kv) out.push({ section, key: kv[1] ?? "", value: kv[2] ?? "" });
  }
  return out;
}

export function unitValues(text: string, section: string, key: string): string[] {
  return parseUnit(text)
    .filter((e) => e.section === section && e.key === key)
    .map((e) => e.value);
}
