import { Argument, type Command } from "commander";
import { completionScript, describeCommands } from "../completion.ts";
import type { CliContext } from "../context.ts";

export function completionCommand(program: Command, ctx: CliContext): Command {
  return program
    .command("completion")
    .description("Print a shell completion script")
    .addArgument(new Argument("<shell>", "shell to complete for").choices(["bash", "zsh", "fish"]))
    .addHelpText(
      "after",
      "\nExamples:\n  source <(virtwork completion bash)\n  virtwork completion fish > ~/.config/fish/completions/virtwork.fish",
    )
    .action((shell: string) => {
      ctx.stdout(completionScript(shell, describeCommands(program), [...ctx.registry.keys()]));
    });
}
