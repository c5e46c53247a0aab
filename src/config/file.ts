import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { UsageError } from "../errors.ts";
import { keepScalarSource } from "../util/yaml-source.ts";
import { EXTRA_ENV, FLAGS } from "./settings.ts";

export type FileMap = Record<string, unknown>;

/** The config file of a command (--config, else VIRTWORK_CONFIG), read and canonicalized. */
export interface ConfigFile {
  path?: string;
  /** "config file <path>", the start of every message about it. */
  label: string;
  values: FileMap;
}

/** `cpu_cores` and `cpu-cores` are the same key; hyphens are canonical. */
export function canonicalKey(key: string): string {
  return key.replace(/_/g, "-");
}

export function openConfigFile(
  flags: Record<string, unknown>,
  env: Record<string, string | undefined>,
  readFile: (path: string) => string,
): ConfigFile {
  const [envName] = EXTRA_ENV;
  const path = (flags[FLAGS.config.long] as string | undefined) ?? env[envName];
  const field = flags[FLAGS.config.long] !== undefined ? `--${FLAGS.config.long}` : envName;
  return {
    ...(path ? { path } : {}),
    label: `config file ${path}`,
    values: path ? readConfigFile(path, readFile, field) : {},
  };
}

function readConfigFile(path: string, readFile: (p: string) => string, field: string): FileMap {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
    throw new UsageError(`${field}: cannot read config file ${path}: ${reason}`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const [first] = doc.errors;
  if (first) {
    const pos = lineCounter.linePos(first.pos[0]);
    throw new UsageError(`config file ${path}: line ${pos.line}: ${first.message.split("\n")[0]}`);
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return {};
  if (!isMap(doc.contents))
    throw new UsageError(`config file ${path}: the top level must be a mapping of settings`);
  // Every setting takes text, as from a flag: `ssh-password: 0123` is "0123", not 123.
  keepScalarSource(doc);
  let value: FileMap;
  try {
    // Aliases are fine; thousands of them are a "billion laughs" document, never a config.
    value = doc.toJS({ maxAliasCount: 100 }) as FileMap;
  } catch (err) {
    throw new UsageError(`config file ${path}: ${(err as Error).message.split("\n")[0]}`);
  }
  return canonicalize(value, path, "");
}

function canonicalize(map: FileMap, path: string, prefix: string): FileMap {
  const out: FileMap = {};
  for (const [rawKey, value] of Object.entries(map)) {
    const key = canonicalKey(rawKey);
    if (key in out)
      throw new UsageError(
        `config file ${path}: ${prefix}${key} is given twice (as ${rawKey} and its other spelling)`,
      );
    const isParams = prefix.endsWith(".params.") || prefix === "params.";
    out[key] =
      value && typeof value === "object" && !Array.isArray(value) && !isParams
        ? canonicalize(value as FileMap, path, `${prefix}${key}.`)
        : value;
  }
  return out;
}
