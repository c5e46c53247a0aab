import type { Command } from "commander";
import { stringify } from "yaml";
import { listWorkloads } from "../../ops/workloads.ts";
import { type CliContext, commandSetup } from "../context.ts";
import { addOptions } from "../options.ts";
import { toTable } from "../output.ts";

export function workloadsCommand(program: Command, ctx: CliContext): Command {
  const cmd = program
    .command("workloads")
    .description(
      "List the built-in and catalog workloads and their params (name, type, default, description)",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  virtwork workloads\n  virtwork workloads --catalog-dir ./catalog\n  virtwork workloads -o json | jq '.[].name'",
    );
  return addOptions(cmd, "workloads").action((opts: { output: string }, command: Command) => {
    const { flags } = commandSetup(command, ctx);
    const workloads = listWorkloads({ flags, env: ctx.env, registry: ctx.registry });
    if (opts.output === "json") return ctx.stdout(`${JSON.stringify(workloads, null, 2)}\n`);
    if (opts.output === "yaml") return ctx.stdout(stringify(workloads));
    const rows: string[][] = [];
    for (const w of workloads) {
      const tag = [
        w.default ? "default" : w.source === "catalog" ? "--from-catalog" : "opt-in",
        ...(w.roles.length ? [`roles: ${w.roles.join(", ")}`] : []),
      ];
      rows.push([w.name, w.source, "", "", "", `${w.description} [${tag.join("; ")}]`]);
      for (const p of w.params) rows.push(["", "", p.name, p.type, p.default, p.description]);
    }
    ctx.stdout(toTable(["WORKLOAD", "SOURCE", "PARAM", "TYPE", "DEFAULT", "DESCRIPTION"], rows));
  });
}
