import { existsSync } from "node:fs";
import type { Auditor, RunDetail, RunSummary } from "../audit/auditor.ts";
import { openAuditor } from "../audit/open.ts";
import { isPostgresUrl } from "../audit/postgres.ts";
import { defaultSqlitePath } from "../audit/sqlite.ts";
import { resolveSettings } from "../config/layers.ts";
import { checkValue, partialLayers } from "../config/partial.ts";
import { asRunId } from "../config/values.ts";
import { UsageError } from "../errors.ts";

type Env = Record<string, string | undefined>;

/** --audit / --audit-db through the same layers as every setting (flag > env > config file). */
function auditSettings(flags: Record<string, unknown>, env: Env) {
  // The whole file is checked (unknown keys too), then only these two are read.
  const layers = partialLayers({ flags, env });
  const { audit, auditDb } = resolveSettings(["audit", "auditDb"], layers);
  return { enabled: audit, target: auditDb, source: layers.sources.auditDb ?? "default" };
}

/** Opens the configured audit database for reading; `fn` gets undefined when there is none yet. */
async function withAuditor<T>(
  flags: Record<string, unknown>,
  env: Env,
  fn: (auditor: Auditor | undefined, location: string) => Promise<T>,
): Promise<T> {
  const { enabled, target, source } = auditSettings(flags, env);
  if (!enabled)
    throw new UsageError(
      "audit is disabled (--no-audit or VIRTWORK_AUDIT=false): there is no history to read",
    );
  const path = target ?? defaultSqlitePath(env);
  // Reading history never creates a database. The default one may not exist yet (no run
  // has been recorded); one that was named must: a typo would read as "no runs".
  if (!isPostgresUrl(path) && !existsSync(path)) {
    if (source !== "default")
      throw new UsageError(
        `${source}: audit database ${path} does not exist; check the path (runs are recorded in ${defaultSqlitePath(env)} unless --audit-db or VIRTWORK_AUDIT_DB names another)`,
      );
    return fn(undefined, path);
  }
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
  // An empty id would be a prefix of every run.
  const runId = checkValue("history show <run-id>", input.runId, asRunId);
  return withAuditor(input.flags, input.env, async (auditor, location) => {
    const run = await auditor?.getRun(runId);
    if (!run) throw new Error(`no run ${runId} in ${location} (see virtwork history)`);
    return run;
  });
}
