import { Command, CommanderError } from "commander";
import { ExitCode, UsageError } from "../errors.ts";
import { setSignalMode, wasInterrupted } from "../ops/signals.ts";
import { maskUrlCredentials } from "../util/redact.ts";
import { cleanupCommand } from "./commands/cleanup.ts";
import { completionCommand } from "./commands/completion.ts";
import { historyCommand } from "./commands/history.ts";
import { runCommand } from "./commands/run.ts";
import { statusCommand } from "./commands/status.ts";
import { validateCommand } from "./commands/validate.ts";
import { verifyCommand } from "./commands/verify.ts";
import { versionCommand, versionLine } from "./commands/version.ts";
import { workloadsCommand } from "./commands/workloads.ts";
import type { CliContext } from "./context.ts";
import { addOptions } from "./options.ts";

export function buildProgram(ctx: CliContext): Command {
  const program = new Command("virtwork")
    .description(
      "Create KubeVirt VMs on OpenShift Virtualization whose systemd workloads (CPU, memory, disk, PostgreSQL, " +
        "network, chaos) run continuously, so monitoring, storage and network products have real signals.",
    )
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => ctx.stdout(s),
      writeErr: (s) => ctx.stderr(s),
      // One line, kubectl style: "Error: unknown option '--x' (Did you mean --y?)".
      // Commander echoes arguments ("too many arguments … postgres://app:pw@db"): passwords masked.
      outputError: (s, write) =>
        write(
          `Error: ${maskUrlCredentials(
            s
              .replace(/^error: /, "")
              .trim()
              .replace(/\n+/g, " "),
          )}\n`,
        ),
    })
    .exitOverride()
    // Every subcommand's help lists -n, --context, --kubeconfig… too, like kubectl's "global flags".
    .configureHelp({ showGlobalOptions: true })
    .version(versionLine(), "--version", "print the version, commit and build date")
    // run and cleanup stop cleanly on a signal (and report); every other command exits at once.
    .hook("preAction", (_program, action) => {
      // verify --for: Ctrl-C ends the window early and reports what was sampled
      const soaking = action.name() === "verify" && action.opts().for !== undefined;
      setSignalMode(["run", "cleanup"].includes(action.name()) || soaking ? "stop" : "exit");
    });
  addOptions(program, "global");
  for (const add of [
    runCommand,
    cleanupCommand,
    statusCommand,
    verifyCommand,
    validateCommand,
    workloadsCommand,
    versionCommand,
    completionCommand,
  ]) {
    const cmd = add(program, ctx);
    cmd.showSuggestionAfterError(true).exitOverride();
    cmd.configureOutput(program.configureOutput());
  }
  historyCommand(program, ctx);
  return program;
}

/** Errors are one line: control characters from echoed input are escaped, URL passwords masked. */
function oneLine(message: string): string {
  return (
    maskUrlCredentials(message)
      .replace(/\r?\n/g, "\\n")
      // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point.
      .replace(/[\u0000-\u001f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)
  );
}

/** Runs the CLI and returns the exit code; never throws. */
export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const program = buildProgram(ctx);
  if (argv.length === 0) {
    program.outputHelp();
    return ExitCode.ok;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    // A command that finished but did not succeed (a failed or interrupted run, cleanup errors)
    // says so through process.exitCode; returning 0 here would overwrite it.
    return Number(process.exitCode ?? ExitCode.ok) || ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version displays are "errors" to commander; everything else is bad usage.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (err instanceof UsageError) {
      ctx.stderr(`Error: ${oneLine(err.message)}\n`);
      return ExitCode.usage;
    }
    const verbose = argv.includes("-v") || argv.includes("--verbose");
    ctx.stderr(`Error: ${oneLine((err as Error).message ?? String(err))}\n`);
    if (verbose && err instanceof Error && err.stack) ctx.stderr(`${maskUrlCredentials(err.stack)}\n`);
    // Stopped by a signal while a step was under way (e.g. waiting for a retry): 130.
    return wasInterrupted() ? ExitCode.interrupted : ExitCode.failure;
  }
}
