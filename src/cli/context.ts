import { isatty } from "node:tty";
import type { Command } from "commander";
import { unknownEnvWarnings } from "../config/env.ts";
import { openConfigFile } from "../config/file.ts";
import { resolveSettings, SettingLayers } from "../config/layers.ts";
import { SETTINGS } from "../config/settings.ts";
import { UsageError } from "../errors.ts";
import { createLogger, type LogFormat, type Logger } from "../log/logger.ts";
import { readTextFile } from "../util/text-file.ts";
import { createRegistry, type Registry } from "../workloads/registry.ts";
import { writeAll } from "./io.ts";
import { explicitFlags } from "./options.ts";
import { createScreen, type Screen } from "./screen.ts";

/** What a command needs from the process, injectable for tests. */
export interface CliContext {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The built-in workloads every command knows (tests may register more). */
  registry: Registry;
  /** stderr is a terminal: text logs, a live progress line. */
  stderrTty?: boolean;
  /** stdin is a terminal: prompts can be answered. */
  stdinTty?: boolean;
  /** Width of the terminal, when known. */
  columns?: number;
}

export function processContext(): CliContext {
  const stderrTty = isatty(2);
  // Only a terminal has a width; asking process.stderr costs start-up time, so only then.
  const columns = Number(process.env.COLUMNS) || (stderrTty ? process.stderr.columns : undefined);
  return {
    env: process.env,
    stdout: (text) => writeAll(1, text),
    stderr: (text) => writeAll(2, text),
    registry: createRegistry(),
    stderrTty,
    stdinTty: isatty(0),
    ...(columns ? { columns } : {}),
  };
}

/** --log-format > VIRTWORK_LOG_FORMAT > config file (the same layers as every setting) > text on a terminal, else json. */
export function logFormat(flags: Record<string, unknown>, ctx: CliContext): LogFormat {
  let file: ReturnType<typeof openConfigFile> = { label: "config file", values: {} };
  try {
    file = openConfigFile(flags, ctx.env, (p) => readTextFile(p));
  } catch (err) {
    // A config file that cannot be read is reported when the command loads its settings.
    if (!(err instanceof UsageError)) throw err;
  }
  const { logFormat: chosen } = resolveSettings(["logFormat"], new SettingLayers(flags, ctx.env, file));
  return chosen ?? (ctx.stderrTty ? "text" : "json");
}

/** Flags, stderr as one screen, and a logger on it whose level follows --verbose / VIRTWORK_VERBOSE. */
export function commandSetup(
  cmd: Command,
  ctx: CliContext,
): { flags: Record<string, unknown>; logger: Logger; screen: Screen; format: LogFormat } {
  const flags = explicitFlags(cmd);
  const verboseEnv = (ctx.env[SETTINGS.verbose.env] ?? "").toLowerCase();
  const verbose = flags.verbose === true || verboseEnv === "true" || verboseEnv === "1";
  const format = logFormat(flags, ctx);
  const screen = createScreen(ctx.stderr, Boolean(ctx.stderrTty), ctx.columns ?? 100);
  const logger = createLogger({ level: verbose ? "debug" : "info", format, write: (l) => screen.line(l) });
  for (const warning of unknownEnvWarnings(ctx.env)) logger.warn(warning);
  return { flags, logger, screen, format };
}
