import type { Command } from "commander";
import { UsageError } from "../../errors.ts";
import { listWorkloads } from "../../ops/workloads.ts";
import { didYouMean } from "../../util/suggest.ts";
import { type CliContext, commandSetup } from "../context.ts";
import { addOptions } from "../options.ts";
import { type ListFormat, renderList } from "../output.ts";
import { renderWorkload, workloadColumns } from "../render/workloads.ts";

export function workloadsCommand(program: Command, ctx: CliContext): Command {
  const cmd = program
    .command("workloads")
    .description(
      "List the built-in and catalog workloads and their params (name, type, default, description)",
    )
    .argument("[name]", "one workload or catalog entry: every param with its type, default and description")
    .addHelpText(
      "after",
      "\nExamples:\n  virtwork workloads\n  virtwork workloads database\n  virtwork workloads -o wide --catalog-dir ./catalog\n  virtwork workloads -o json | jq '.[].name'",
    );
  return addOptions(cmd, "workloads").action(
    (name: string | undefined, opts: { output?: ListFormat }, command: Command) => {
      const { flags } = commandSetup(command, ctx);
      const workloads = listWorkloads({ flags, env: ctx.env, registry: ctx.registry });
      if (name === undefined)
        return ctx.stdout(renderList(opts.output, workloads, workloadColumns(workloads), (w) => w.name));
      const one = workloads.find((w) => w.name === name);
      if (!one) {
        const names = workloads.map((w) => w.name);
        throw new UsageError(
          `unknown workload "${name}"${didYouMean(name, names)}; available: ${names.join(", ")}`,
        );
      }
      if (opts.output === "name") return ctx.stdout(`${one.name}\n`);
      if (opts.output === "json" || opts.output === "yaml")
        return ctx.stdout(renderList(opts.output, [], [], () => "", one));
      ctx.stdout(renderWorkload(one));
    },
  );
}
