import type { Command } from "commander";
import { SETTINGS, type SettingDef } from "../../config/settings.ts";

/** What a flag's value or a positional argument completes to. */
export type ValueKind =
  | "none"
  | "file"
  | "dir"
  | "workloads"
  | "names"
  | "catalog"
  | "runs"
  | "shells"
  | "choices";

export interface FlagNode {
  names: string[];
  takesValue: boolean;
  /** The value may be left out (`--dry-run`, `--dry-run=server`). */
  optionalValue: boolean;
  kind: ValueKind;
  choices: readonly string[];
  description: string;
}

export interface CommandNode {
  /** ["history", "show"] */
  path: string[];
  description: string;
  subcommands: string[];
  flags: FlagNode[];
  /** The positional arguments: what they complete to, and how many (Infinity: variadic). */
  args: { kind: ValueKind; max: number };
}

const FLAG_KINDS: Record<string, ValueKind> = {
  config: "file",
  kubeconfig: "file",
  "ssh-key-file": "file",
  "audit-db": "file",
  "catalog-dir": "dir",
  workloads: "workloads",
  "from-catalog": "catalog",
  "run-id": "runs",
};
const ARG_KINDS: Record<string, ValueKind> = {
  completion: "shells",
  workloads: "names",
  validate: "names",
  "history show": "runs",
};

function flagsOf(cmd: Command): FlagNode[] {
  return cmd.options
    .filter((o) => !o.hidden)
    .map((o) => {
      const long = o.long?.replace(/^--/, "") ?? "";
      const setting = (Object.values(SETTINGS) as SettingDef<unknown>[]).find(
        (d) => d.flag === long.replace(/^no-/, ""),
      );
      // Enforced choices (commander's, from the table), else the values the table offers.
      const choices = (o.argChoices as readonly string[] | undefined) ?? setting?.cli?.values ?? [];
      const takesValue = Boolean(o.required || o.optional);
      return {
        names: [o.short, o.long].filter((n): n is string => Boolean(n)),
        takesValue,
        optionalValue: Boolean(o.optional),
        kind: !takesValue ? "none" : choices.length ? "choices" : (FLAG_KINDS[long] ?? "none"),
        choices,
        description: o.description,
      };
    });
}

/**
 * Every command of the program, from commander's own tree: subcommands, flags (with the
 * global ones), value kinds and enum values from the settings table and the options.
 */
export function commandTree(program: Command): CommandNode[] {
  const nodes: CommandNode[] = [];
  const walk = (cmd: Command, path: string[], inherited: FlagNode[]) => {
    const own = flagsOf(cmd);
    const flags = path.length === 0 ? own : [...own, ...inherited];
    const key = path.join(" ");
    const args = cmd.registeredArguments;
    nodes.push({
      path,
      description: cmd.description(),
      subcommands: cmd.commands.map((c) => c.name()),
      // Nothing but the shell after `completion`: its own flags would only confuse.
      flags: key === "completion" ? [] : flags,
      args: {
        kind: args.length ? (ARG_KINDS[key] ?? "none") : "none",
        max: args.some((a) => a.variadic) ? Number.POSITIVE_INFINITY : args.length,
      },
    });
    for (const sub of cmd.commands) walk(sub, [...path, sub.name()], path.length === 0 ? own : flags);
  };
  walk(program, [], []);
  return nodes;
}
