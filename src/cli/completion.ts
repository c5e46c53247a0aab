import type { Command } from "commander";

export interface CommandInfo {
  name: string;
  description: string;
  flags: { name: string; description: string; takesValue: boolean; choices?: readonly string[] }[];
}

/** Every command with its flags (and the global ones), read from commander. */
export function describeCommands(program: Command): CommandInfo[] {
  const flagsOf = (cmd: Command) =>
    cmd.options.flatMap((o) => {
      const flag = {
        description: o.description,
        takesValue: o.required || o.optional,
        ...(o.argChoices ? { choices: o.argChoices } : {}),
      };
      return [o.long, o.short].filter((n): n is string => Boolean(n)).map((name) => ({ name, ...flag }));
    });
  const globals = flagsOf(program);
  return program.commands.map((c) => ({
    name: c.name(),
    description: c.description(),
    flags: [...flagsOf(c), ...globals],
  }));
}

function bash(commands: CommandInfo[], workloads: string[]): string {
  const cases = commands
    .map((c) => `    ${c.name}) opts="${c.flags.map((f) => f.name).join(" ")}" ;;`)
    .join("\n");
  const valued = [
    ...new Set(commands.flatMap((c) => c.flags.filter((f) => f.takesValue).map((f) => f.name))),
  ];
  return `# bash completion for virtwork; load with: source <(virtwork completion bash)
_virtwork() {
  local cur prev cmd opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    mapfile -t COMPREPLY < <(compgen -W "${commands.map((c) => c.name).join(" ")}" -- "$cur")
    return
  fi
  case "$prev" in
    ${valued.join("|")})
      case "$prev" in
        --config|--kubeconfig|--ssh-key-file|--audit-db) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
        -w|--workloads) mapfile -t COMPREPLY < <(compgen -W "${[...workloads, "all"].join(" ")}" -- "$cur") ;;
        -o|--output) mapfile -t COMPREPLY < <(compgen -W "yaml json table text" -- "$cur") ;;
      esac
      return ;;
  esac
  case "$cmd" in
${cases}
    completion) opts="bash zsh fish" ;;
    *) opts="" ;;
  esac
  mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
}
complete -F _virtwork virtwork
`;
}

function zsh(commands: CommandInfo[]): string {
  const esc = (s: string) => s.replace(/'/g, "'\\''").replace(/[[\]:]/g, "\\$&");
  const subcommands = commands.map((c) => `    '${c.name}:${esc(c.description)}'`).join("\n");
  const cases = commands
    .map(
      (c) =>
        `    ${c.name})\n      _arguments \\\n${c.flags.map((f) => `        '${f.name}[${esc(f.description)}]${f.takesValue ? ":value:" : ""}'`).join(" \\\n")}\n      ;;`,
    )
    .join("\n");
  return `#compdef virtwork
# zsh completion for virtwork; load with: source <(virtwork completion zsh)
_virtwork() {
  local -a subcommands
  subcommands=(
${subcommands}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' subcommands
    return
  fi
  case "$words[2]" in
${cases}
  esac
}
compdef _virtwork virtwork
`;
}

function fish(commands: CommandInfo[]): string {
  const esc = (s: string) => s.replace(/'/g, "\\'");
  const lines = [
    "# fish completion for virtwork; load with: virtwork completion fish | source",
    "complete -c virtwork -f",
  ];
  for (const c of commands) {
    lines.push(`complete -c virtwork -n '__fish_use_subcommand' -a ${c.name} -d '${esc(c.description)}'`);
    for (const f of c.flags) {
      const flag = f.name.startsWith("--") ? `-l ${f.name.slice(2)}` : `-s ${f.name.slice(1)}`;
      const value = f.takesValue ? (f.choices ? ` -x -a '${f.choices.join(" ")}'` : " -r") : "";
      lines.push(
        `complete -c virtwork -n '__fish_seen_subcommand_from ${c.name}' ${flag}${value} -d '${esc(f.description)}'`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

/** The completion script for `shell`; workload names come from the registry. */
export function completionScript(shell: string, commands: CommandInfo[], workloads: string[]): string {
  return shell === "zsh" ? zsh(commands) : shell === "fish" ? fish(commands) : bash(commands, workloads);
}
