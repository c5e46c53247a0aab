import type { Command } from "commander";
import { SETTINGS } from "../config/settings.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { createRegistry, type Registry } from "../workloads/registry.ts";
import { writeAll } from "./io.ts";
import { explicitFlags } from "./options.ts";

/** What a command needs from the process, injectable for tests. */
export interface CliContext {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The built-in workloads every command knows (tests may register more). */
  registry: Registry;
}

export function processContext(): CliContext {
  return {
    env: process.env,
    stdout: (text) => writeAll(1, text),
    stderr: (text) => writeAll(2, text),
    registry: createRegistry(),
  };
}

/** Flags and a logger whose level follows --verbose / VIRTWORK_VERBOSE. */
export function commandSetup(
  cmd: Command,
  ctx: CliContext,
): { flags: Record<string, unknown>; logger: Logger } {
  const flags = explicitFlags(cmd);
  const verboseEnv = (ctx.env[SETTINGS.verbose.env] ?? "").toLowerCase();
  const verbose = flags.verbose === true || verboseEnv === "true" || verboseEnv === "1";
  return { flags, logger: createLogger({ level: verbose ? "debug" : "info", write: ctx.stderr }) };
}
