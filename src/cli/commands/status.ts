import type { Command } from "commander";
import { runsOf, vmStatus } from "../../ops/status.ts";
import { type CliContext, commandSetup } from "../context.ts";
import { addOptions } from "../options.ts";
import { type ListFormat, renderList } from "../output.ts";
import { runColumns, vmColumns } from "../render/status.ts";

interface StatusFlags {
  runId?: string;
  allNamespaces?: boolean;
  runs?: boolean;
  output?: ListFormat;
}

export function statusCommand(program: Command, ctx: CliContext): Command {
  const cmd = program
    .command("status")
    .description("Show virtwork's VMs: name, workload, role, phase, node, IP, age, run")
    .addHelpText(
      "after",
      "\nExamples:\n  virtwork status\n  virtwork status -A --runs\n  virtwork status -n perf --run-id 3f2a… -o wide",
    );
  return addOptions(cmd, "status").action(async (opts: StatusFlags, command: Command) => {
    const { flags, logger } = commandSetup(command, ctx);
    // -o here is the list format, not the run's output setting.
    delete flags.output;
    const all = Boolean(opts.allNamespaces);
    const { namespace, rows } = await vmStatus({
      flags,
      env: ctx.env,
      logger,
      registry: ctx.registry,
      ...(opts.runId !== undefined ? { runId: opts.runId } : {}),
      allNamespaces: all,
    });
    if (!rows.length && (!opts.output || opts.output === "wide")) {
      const where = all ? "in any namespace" : `in namespace ${namespace}`;
      ctx.stdout(`No virtwork VMs ${where}${opts.runId ? ` for run ${opts.runId}` : ""}.\n`);
      return;
    }
    ctx.stdout(
      opts.runs
        ? renderList(opts.output, runsOf(rows), runColumns(all), (r) => r.runId)
        : renderList(opts.output, rows, vmColumns(all), (r) => `virtualmachine/${r.name}`),
    );
  });
}
