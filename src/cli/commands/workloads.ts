import { type Command, Option } from "commander";
import { stringify } from "yaml";
import { fedora } from "../../workloads/guest.ts";
import { createRegistry } from "../../workloads/registry.ts";
import type { CliContext } from "../context.ts";
import { toTable } from "../output.ts";

/** What `virtwork workloads` reports for each workload. */
export function describeWorkloads() {
  return [...createRegistry().values()].map((w) => {
    const roles = w.build({
      namespace: "virtwork",
      params: Object.fromEntries(w.params.map((p) => [p.name, p.default])),
      guest: fedora,
    }).roles;
    return {
      name: w.name,
      description: w.description,
      default: !w.optIn,
      roles: roles.flatMap((r) => (r.role ? [r.role] : [])),
      params: w.params.map((p) => ({
        name: p.name,
        type: p.type,
        default: p.default,
        description: p.description,
      })),
    };
  });
}

export function workloadsCommand(program: Command, ctx: CliContext): Command {
  return program
    .command("workloads")
    .description("List the built-in workloads and their params (name, type, default, description)")
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["table", "yaml", "json"])
        .default("table"),
    )
    .addHelpText("after", "\nExamples:\n  virtwork workloads\n  virtwork workloads -o json | jq '.[].name'")
    .action((opts: { output: string }) => {
      const workloads = describeWorkloads();
      if (opts.output === "json") return ctx.stdout(`${JSON.stringify(workloads, null, 2)}\n`);
      if (opts.output === "yaml") return ctx.stdout(stringify(workloads));
      const rows: string[][] = [];
      for (const w of workloads) {
        const tag = [
          w.default ? "default" : "opt-in",
          ...(w.roles.length ? [`roles: ${w.roles.join(", ")}`] : []),
        ];
        rows.push([w.name, "", "", "", `${w.description} [${tag.join("; ")}]`]);
        for (const p of w.params) rows.push(["", p.name, p.type, p.default, p.description]);
      }
      ctx.stdout(toTable(["WORKLOAD", "PARAM", "TYPE", "DEFAULT", "DESCRIPTION"], rows));
    });
}
