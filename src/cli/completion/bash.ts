import type { CommandNode, FlagNode } from "./tree.ts";

const key = (n: CommandNode) => (n.path.length ? n.path.join("/") : "/");

function valuesOf(f: FlagNode): string {
  return f.kind === "choices" ? f.choices.join(" ") : `@${f.kind}`;
}

/**
 * bash completion (zsh loads it through bashcompinit): the command path is found among the
 * words typed so far, then subcommands, flags, a flag's values (`--flag value` and
 * `--flag=value`; bash splits at "="), or the positional arguments are offered.
 */
export function bashScript(nodes: CommandNode[], builtins: readonly string[]): string {
  const cases = (fn: (n: CommandNode) => string) =>
    nodes.map((n) => `    ${JSON.stringify(key(n))}) echo ${JSON.stringify(fn(n))} ;;`).join("\n");
  const valueCases = nodes
    .map((n) => {
      const lines = n.flags
        .filter((f) => f.takesValue)
        .map(
          (f) =>
            `${f.names.map((name) => JSON.stringify(`${key(n)} ${name}`)).join("|")}) echo ${JSON.stringify(valuesOf(f))} ;;`,
        );
      return lines.map((l) => `    ${l}`).join("\n");
    })
    .filter(Boolean)
    .join("\n");
  const optional = nodes.flatMap((n) =>
    n.flags.filter((f) => f.optionalValue).flatMap((f) => f.names.map((name) => `${key(n)} ${name}`)),
  );
  return `# bash completion for virtwork; load with: source <(virtwork completion bash)
_virtwork_subcommands() {
  case "$1" in
${cases((n) => n.subcommands.join(" "))}
  esac
}
_virtwork_flags() {
  case "$1" in
${cases((n) => (n.path.join(" ") === "completion" ? "" : [...n.flags.flatMap((f) => f.names), "--help"].join(" ")))}
  esac
}
_virtwork_args() {
  case "$1" in
${cases((n) => `${n.args.kind} ${n.args.max === Number.POSITIVE_INFINITY ? 999 : n.args.max}`)}
  esac
}
# The values of a flag that takes one ("" when it takes none); @kind: computed when asked.
_virtwork_values() {
  case "$1 $2" in
${valueCases}
    *) return 1 ;;
  esac
}
_virtwork_optional_value() {
  case "$1 $2" in
    ${optional.map((o) => JSON.stringify(o)).join("|") || '""'}) return 0 ;;
  esac
  return 1
}
# Catalog entries depend on the catalog directory: asked from virtwork when completing.
_virtwork_catalog() {
  "\${COMP_WORDS[0]}" workloads -o name 2>/dev/null | grep -vxF ${builtins.map((b) => `-e ${b}`).join(" ")}
}
_virtwork_expand() {
  local bin="\${COMP_WORDS[0]}"
  case "$1" in
    @file) compgen -f -- "$2" ;;
    @dir) compgen -d -- "$2" ;;
    @workloads) compgen -W "${builtins.join(" ")} $(_virtwork_catalog) all" -- "$2" ;;
    @names) compgen -W "${builtins.join(" ")} $(_virtwork_catalog)" -- "$2" ;;
    @catalog) compgen -W "$(_virtwork_catalog)" -- "$2" ;;
    @runs) compgen -W "$("$bin" history -o name 2>/dev/null)" -- "$2" ;;
    @shells) compgen -W "bash zsh fish" -- "$2" ;;
    @none) ;;
    *) compgen -W "$1" -- "$2" ;;
  esac
}
_virtwork() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="/" i w flag values positional=0 skip=0
  COMPREPLY=()
  # --flag=value arrives as three words: --flag, =, value.
  if [ "$cur" = "=" ]; then flag="\${COMP_WORDS[COMP_CWORD-1]}"; cur=""
  elif [ "$COMP_CWORD" -ge 2 ] && [ "\${COMP_WORDS[COMP_CWORD-1]}" = "=" ]; then flag="\${COMP_WORDS[COMP_CWORD-2]}"
  fi
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case "$w" in
      =) skip=1; continue ;;
      -*) if [ "\${COMP_WORDS[i+1]}" != "=" ] && values=$(_virtwork_values "$path" "$w") && ! _virtwork_optional_value "$path" "$w"; then skip=1; fi; continue ;;
    esac
    if [ "$positional" = 0 ] && [[ " $(_virtwork_subcommands "$path") " == *" $w "* ]]; then
      if [ "$path" = "/" ]; then path="$w"; else path="$path/$w"; fi
    else
      positional=$((positional + 1))
    fi
  done
  if [ -z "$flag" ] && [ "$COMP_CWORD" -ge 2 ]; then
    local prev="\${COMP_WORDS[COMP_CWORD-1]}"
    if [[ "$prev" == -* ]] && ! _virtwork_optional_value "$path" "$prev" && _virtwork_values "$path" "$prev" >/dev/null; then flag="$prev"; fi
  fi
  if [ -n "$flag" ]; then
    values=$(_virtwork_values "$path" "$flag") || return 0
    COMPREPLY=($(_virtwork_expand "$values" "$cur"))
    return 0
  fi
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(_virtwork_flags "$path")" -- "$cur"))
    return 0
  fi
  local subs args
  subs=$(_virtwork_subcommands "$path")
  if [ -n "$subs" ] && [ "$positional" = 0 ]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
    return 0
  fi
  args=($(_virtwork_args "$path"))
  if [ "$positional" -lt "\${args[1]:-0}" ]; then COMPREPLY=($(_virtwork_expand "@\${args[0]}" "$cur")); fi
  return 0
}
complete -F _virtwork virtwork
`;
}
