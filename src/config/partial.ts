import { statSync } from "node:fs";
import { UsageError } from "../errors.ts";
import { readTextFile } from "../util/text-file.ts";
import { openConfigFile } from "./file.ts";
import { resolveSettings, SettingLayers } from "./layers.ts";
import { ValueProblem } from "./values.ts";

export interface PartialInput {
  flags: Record<string, unknown>;
  env: Record<string, string | undefined>;
  readFile?: (path: string) => string;
}

/**
 * Layers for a command that needs only a few settings (history: audit and audit-db;
 * workloads: catalog-dir). The config file is still checked as a whole — syntax, aliases,
 * unknown keys — so a typo there is an error for these commands too.
 */
export function partialLayers(input: PartialInput): SettingLayers {
  const readFile = input.readFile ?? ((p: string) => readTextFile(p));
  const layers = new SettingLayers(input.flags, input.env, openConfigFile(input.flags, input.env, readFile));
  layers.checkFileKeys();
  return layers;
}

/**
 * The catalog directory for listing: one that was named (flag, env, file) must exist and be
 * a directory; the default may be missing (there is simply no catalog yet).
 */
export function resolveCatalogDir(input: PartialInput): { dir: string; origin: string } {
  const layers = partialLayers(input);
  const { catalogDir: dir } = resolveSettings(["catalogDir"], layers);
  const origin = layers.sources.catalogDir ?? "default";
  if (origin !== "default") {
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      throw new UsageError(`${origin}: catalog directory ${dir} does not exist`);
    }
    if (!isDir) throw new UsageError(`${origin}: ${dir} is not a directory`);
  }
  return { dir, origin };
}

/** A command's own value checked by a setting parser: `field: problem` as a UsageError. */
export function checkValue<T>(field: string, raw: unknown, parse: (raw: unknown) => T): T {
  try {
    return parse(raw);
  } catch (err) {
    if (err instanceof ValueProblem) throw new UsageError(`${field}: ${err.message}`);
    throw err;
  }
}
