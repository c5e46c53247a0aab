import { existsSync, readFileSync } from "node:fs";
import { parse } from "yaml";
import type { Auditor, RunDetail, RunSummary } from "../audit/auditor.ts";
import { openAuditor } from "../audit/open.ts";
import { isPostgresUrl } from "../audit/postgres.ts";
import { defaultSqlitePath } from "../audit/sqlite.ts";
import { SETTINGS } from "../config/settings.ts";
import { ValueProblem } from "../config/values.ts";
import { UsageError } from "../errors.ts";

type Env = Record<string, string | undefined>;

/** --audit / --audit-db from flag > env > config file, the same chain as every setting. */
function auditSettings(flags: Record<string, unknown>, env: Env) {
  const configPath = (flags.config as string | undefined) ?? env.VIRTWORK_CONFIG;
  let file: Record<string, unknown> = {};
  if (configPath) {
    try {
      file = (parse(readFileSync(configPath, "utf8")) as Record<string, unknown> | null) ?? {};
    } catch (err) {
      throw new UsageError(`config file ${configPath}: ${(err as Error).message.split("\n")[0]}`);
    }
  }
  const pick = (def: { flag?: string; env: string; key: string }): [unknown, string] | undefined => {
    if (def.flag && flags[def.flag] !== undefined) return [flags[def.flag], `--${def.flag}`];
    if (env[def.env]) return [env[def.env], def.env];
    const key = [def.key, def.key.replace(/-/g, "_")].find((k) => file[k] !== undefined && file[k] !== null);
    return key ? [file[key], `config file ${configPath}: ${key}`] : undefined;
  };
  const parseFrom = <T>(def: { parse: (raw: unknown) => T }, given: [unknown, string] | undefined) => {
    if (!given) return undefined;
    try {
      return def.parse(given[0]);
    } catch (err) {
      if (err instanceof ValueProblem) throw new UsageError(`${given[1]}: ${err.message}`);
      throw err;
    }
  };
  return {
    enabled: parseFrom(SETTINGS.audit, pick(SETTINGS.audit)) ?? true,
    target: parseFrom(SETTINGS.auditDb, pick(SETTINGS.auditDb)),
  };
}

/** Opens the configured audit database for reading; `fn` gets undefined when there is none yet. */
async function withAuditor<T>(
  flags: Record<string, unknown>,
  env: Env,
  fn: (auditor: Auditor | undefined, location: string) => Promise<T>,
): Promise<T> {
  const { enabled, target } = auditSettings(flags, env);
  if (!enabled)
    throw new UsageError(
      "audit is disabled (--no-audit or VIRTWORK_AUDIT=false): there is no history to read",
    );
  const path = target ?? defaultSqlitePath(env);
  // Reading history never creates a database.
  if (!isPostgresUrl(path) && !existsSync(path)) return fn(undefined, path);
  const auditor = await openAuditor({ enabled, target: path, env });
  try {
    return await fn(auditor, auditor.location);
  } finally {
    await auditor.close();
  }
}

/** `virtwork history`: the newest runs and where they were read from. */
export function listHistory(input: {
  flags: Record<string, unknown>;
  env: Env;
  limit: number;
}): Promise<{ runs: RunSummary[]; location: string }> {
  return withAuditor(input.flags, input.env, async (auditor, location) => ({
    runs: (await auditor?.listRuns({ limit: input.limit })) ?? [],
    location,
  }));
}

/** `virtwork history show`: one run, by id or a unique prefix of it. */
export function showHistory(input: {
  flags: Record<string, unknown>;
  env: Env;
  runId: string;
}): Promise<RunDetail> {
  return withAuditor(input.flags, input.env, async (auditor, location) => {
    const run = await auditor?.getRun(input.runId);
    if (!run) throw new Error(`no run ${input.runId} in ${location} (see virtwork history)`);
    return run;
  });
}
