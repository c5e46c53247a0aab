import { type Command, InvalidArgumentError, Option } from "commander";
import { FLAGS, type FlagDef, type FlagGroup, type FlagSpec, SETTINGS } from "../config/settings.ts";

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function option(long: string, spec: FlagSpec, help: string): Option {
  const option = new Option(
    `${spec.short ? `${spec.short}, ` : ""}--${long}${spec.value ? ` ${spec.value}` : ""}`,
    help,
  );
  if (spec.choices) {
    // `-o json`, `-ojson`, `--output=json` and `-o=json` (commander hands "=json" over) all work.
    const choices = spec.choices;
    option.choices(choices).argParser((raw: string) => {
      const value = raw.replace(/^=/, "");
      if (!choices.includes(value))
        throw new InvalidArgumentError(`Allowed choices are ${choices.join(", ")}.`);
      return value;
    });
  }
  if (spec.repeatable) option.argParser(collect);
  return option;
}

/** "(default: 2Gi; env: VIRTWORK_MEMORY)", from the settings table. */
function settingHelp(spec: FlagSpec, def: { default?: unknown; env: string }, negated = false): string {
  const shown = typeof spec.defaultHelp === "function" ? spec.defaultHelp() : spec.defaultHelp;
  const notes: string[] = [];
  if (spec.negate && def.default === !negated) notes.push("default");
  else if (shown !== undefined) notes.push(`default: ${shown}`);
  else if (def.default !== undefined && typeof def.default !== "boolean")
    notes.push(`default: ${def.default}`);
  if (!negated) notes.push(`env: ${def.env}`);
  return notes.length ? ` (${notes.join("; ")})` : "";
}

/** The flags of `group`, every one from the settings table (SETTINGS, then FLAGS). */
export function addOptions(cmd: Command, group: FlagGroup): Command {
  for (const def of Object.values(SETTINGS)) {
    const spec = def.cli as FlagSpec | undefined;
    if (!spec || !def.flag || !spec.on.includes(group)) continue;
    cmd.addOption(option(def.flag, spec, spec.help + settingHelp(spec, def)));
    if (spec.negate)
      cmd.addOption(new Option(`--no-${def.flag}`, spec.negate + settingHelp(spec, def, true)));
  }
  for (const def of Object.values(FLAGS) as FlagDef[]) {
    if (!def.on.includes(group)) continue;
    const o = option(def.long, def, def.help + (def.env ? ` (env: ${def.env})` : ""));
    if (def.default !== undefined) o.default(def.default);
    cmd.addOption(o);
  }
  return cmd;
}

/**
 * The flags given on the command line (not defaults), keyed by long name without dashes
 * and without `no-`, e.g. { "vm-count": "3", audit: false }.
 */
export function explicitFlags(cmd: Command): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (let c: Command | null = cmd; c; c = c.parent) {
    const values = c.opts();
    for (const option of c.options) {
      const attr = option.attributeName();
      if (c.getOptionValueSource(attr) !== "cli" || !option.long) continue;
      const name = option.long.replace(/^--(no-)?/, "");
      if (!(name in flags)) flags[name] = values[attr];
    }
  }
  return flags;
}
