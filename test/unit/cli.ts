import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = `${ROOT}bin/virtwork`;

/** Builds dist/ once when a test run starts without it. */
export function ensureBuilt(): void {
  if (!existsSync(`${ROOT}dist/virtwork.mjs`)) {
    const r = spawnSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: "inherit" });
    if (r.status !== 0) throw new Error("npm run build failed");
  }
}

/** The environment minus every VIRTWORK_* variable, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("VIRTWORK_")) env[k] = v;
  return { ...env, ...extra };
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function virtwork(
  args: string[],
  options: { env?: Record<string, string>; input?: string; cwd?: string } = {},
): CliResult {
  ensureBuilt();
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: cleanEnv(options.env),
    encoding: "utf8",
    input: options.input ?? "",
    cwd: options.cwd ?? ROOT,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
