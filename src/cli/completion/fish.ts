import type { CommandNode, FlagNode, ValueKind } from "./tree.ts";

const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/'/g, "\\'");

function dynamic(kind: ValueKind, builtins: readonly string[]): string | undefined {
  switch (kind) {
    case "workloads":
      return `${builtins.join(" ")} ${dynamic("catalog", builtins)} all`;
    case "names":
      return `${builtins.join(" ")} ${dynamic("catalog", builtins)}`;
    case "catalog":
      return `(virtwork workloads -o name 2>/dev/null | string match -v -r '^(${builtins.join("|")})$')`;
    case "runs":
      return "(virtwork history -o name 2>/dev/null)";
    case "shells":
      return "bash zsh fish";
    default:
      return undefined;
  }
}

function flagLine(condition: string, f: FlagNode, builtins: readonly string[]): string {
  const names = f.names.map((n) => (n.startsWith("--") ? `-l ${n.slice(2)}` : `-s ${n.slice(1)}`)).join(" ");
  const values =
    f.kind === "choices"
      ? ` -x -a '${f.choices.join(" ")}'`
      : f.kind === "file"
        ? " -r -F"
        : f.kind === "dir"
          ? " -r -a '(__fish_complete_directories)'"
          : dynamic(f.kind, builtins)
            ? ` -x -a '${esc(dynamic(f.kind, builtins) ?? "")}'`
            : f.takesValue
              ? " -x"
              : "";
  return `complete -c virtwork -n '${condition}' ${names}${values} -d '${esc(f.description)}'`;
}

/** fish completion: one `complete` line per subcommand, flag and argument, from the same tree as bash. */
export function fishScript(nodes: CommandNode[], builtins: readonly string[]): string {
  const lines = [
    "# fish completion for virtwork; load with: virtwork completion fish | source",
    "complete -c virtwork -f",
  ];
  for (const n of nodes) {
    // The command path is typed and no sibling subcommand is.
    const condition =
      n.path.length === 0
        ? "__fish_use_subcommand"
        : [
            ...n.path.map((p) => `__fish_seen_subcommand_from ${p}`),
            ...(n.subcommands.length ? [`not __fish_seen_subcommand_from ${n.subcommands.join(" ")}`] : []),
          ].join("; and ");
    for (const sub of n.subcommands) {
      const child = nodes.find((c) => c.path.join(" ") === [...n.path, sub].join(" "));
      lines.push(`complete -c virtwork -n '${condition}' -a ${sub} -d '${esc(child?.description ?? "")}'`);
    }
    const values = dynamic(n.args.kind, builtins);
    if (values && n.args.max > 0) {
      const done = n.args.kind === "shells" ? "; and not __fish_seen_subcommand_from bash zsh fish" : "";
      lines.push(`complete -c virtwork -n '${condition}${done}' -a '${esc(values)}'`);
    }
    if (n.path.length === 0) continue;
    for (const f of n.flags) lines.push(flagLine(condition, f, builtins));
  }
  return `${lines.join("\n")}\n`;
}
