import { type Command, Option } from "commander";
import { buildInfo } from "../../build-info.ts";
import type { CliContext } from "../context.ts";

export function versionCommand(program: Command, ctx: CliContext): Command {
  return program
    .command("version")
    .description("Print the version, commit and build date")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .action((opts: { output: string }) => {
      const info = { ...buildInfo, node: process.version };
      ctx.stdout(
        opts.output === "json"
          ? `${JSON.stringify(info)}\n`
          : `virtwork ${info.version} (commit ${info.commit}, built ${info.buildDate}, node ${info.node})\n`,
      );
    });
}
