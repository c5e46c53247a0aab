import { Argument, type Command } from "commander";
import { bashScript } from "../completion/bash.ts";
import { fishScript } from "../completion/fish.ts";
import { commandTree } from "../completion/tree.ts";
import type { CliContext } from "../context.ts";

/** zsh runs the bash script through its bash-completion emulation (one source of truth). */
function zshScript(bash: string): string {
  return `#compdef virtwork
# zsh completion for virtwork; load with: source <(virtwork completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bash.replace(/^# bash completion.*\n/, "")}`;
}

export function completionCommand(program: Command, ctx: CliContext): Command {
  return program
    .command("completion")
    .description("Print a shell completion script (subcommands, flags, values, workload and catalog names)")
    .addArgument(new Argument("<shell>", "shell to complete for").choices(["bash", "zsh", "fish"]))
    .addHelpText(
      "after",
      "\nExamples:\n  source <(virtwork completion bash)\n  source <(virtwork completion zsh)\n  virtwork completion fish > ~/.config/fish/completions/virtwork.fish",
    )
    .action((shell: string) => {
      const nodes = commandTree(program);
      const builtins = [...ctx.registry.keys()];
      const bash = bashScript(nodes, builtins);
      ctx.stdout(shell === "zsh" ? zshScript(bash) : shell === "fish" ? fishScript(nodes, builtins) : bash);
    });
}
