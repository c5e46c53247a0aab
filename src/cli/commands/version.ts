import type { Command } from "commander";
import { buildInfo } from "../../build-info.ts";
import { toYaml } from "../../util/yaml-emit.ts";
import type { CliContext } from "../context.ts";
import { addOptions } from "../options.ts";

export function versionLine(): string {
  const info = { ...buildInfo, node: process.version };
  return `virtwork ${info.version} (commit ${info.commit}, built ${info.buildDate}, node ${info.node})`;
}

export function versionCommand(program: Command, ctx: CliContext): Command {
  const cmd = program.command("version").description("Print the version, commit and build date");
  return addOptions(cmd, "version").action((opts: { output?: string }) => {
    const info = { ...buildInfo, node: process.version };
    ctx.stdout(
      opts.output === "json"
        ? `${JSON.stringify(info)}\n`
        : opts.output === "yaml"
          ? toYaml(info)
          : `${versionLine()}\n`,
    );
  });
}
