import type { Command } from "commander";
import { UsageError } from "../../errors.ts";
import { listHistory, showHistory } from "../../ops/history.ts";
import { toYaml } from "../../util/yaml-emit.ts";
import { type CliContext, commandSetup } from "../context.ts";
import { addOptions } from "../options.ts";
import { type ListFormat, renderList } from "../output.ts";
import { RUN_COLUMNS, renderRun } from "../render/history.ts";

type Format = ListFormat;

export function historyCommand(program: Command, ctx: CliContext): Command {
  const history = program
    .command("history")
    .description("List recorded runs and cleanups (newest first) from the audit database")
    .addHelpText(
      "after",
      `
Runs are recorded in $XDG_STATE_HOME/virtwork/audit.db (default ~/.local/state/virtwork/audit.db),
or wherever --audit-db / VIRTWORK_AUDIT_DB points (a SQLite file or a postgres:// URL).

Examples:
  virtwork history
  virtwork history -o wide                # + workloads and error
  virtwork history -o json | jq '.[] | select(.status == "failed") | .runId'
  virtwork history show 3f2a9c1e          # a unique prefix of the run id is enough
  virtwork history --audit-db postgres://virtwork@db.example:5432/virtwork`,
    );
  addOptions(history, "history").action(
    async (opts: { output?: Format; limit: string }, command: Command) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new UsageError(`--limit: must be a positive integer, got "${opts.limit}"`);
      const { flags } = commandSetup(command, ctx);
      const { runs, location } = await listHistory({ flags, env: ctx.env, limit });
      if (!runs.length && !opts.output) return ctx.stdout(`No runs recorded in ${location}\n`);
      ctx.stdout(renderList(opts.output, runs, RUN_COLUMNS, (r) => r.runId));
    },
  );
  const show = history
    .command("show")
    .description("Show one run: its settings, VMs with phase and timings, and its timeline of events")
    .argument("<run-id>", "the run id, or a unique prefix of it");
  addOptions(show, "history show").action(
    async (runId: string, opts: { output?: Format }, command: Command) => {
      const { flags } = commandSetup(command, ctx);
      const run = await showHistory({ flags, env: ctx.env, runId });
      // The parent parses `-o` when it follows the run id (`history show ID -o json`).
      const parent = command.parent;
      const output =
        command.getOptionValueSource("output") !== "cli" && parent?.getOptionValueSource("output") === "cli"
          ? (parent.opts().output as Format)
          : opts.output;
      ctx.stdout(
        output === "json"
          ? `${JSON.stringify(run, null, 2)}\n`
          : output === "yaml"
            ? toYaml(run)
            : renderRun(run),
      );
    },
  );
  // Registered outside the command loop of buildProgram, so it sets up its own error handling.
  for (const cmd of [history, ...history.commands]) {
    cmd.showSuggestionAfterError(true).exitOverride().configureOutput(program.configureOutput());
  }
  return history;
}
