import { UsageError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { type Auditor, NoopAuditor } from "./auditor.ts";
import { isPostgresUrl, openPostgres, redactUrl } from "./postgres.ts";
import { migrate } from "./sql.ts";
import { SqlAuditor } from "./sql-auditor.ts";
import { defaultSqlitePath, openSqlite } from "./sqlite.ts";

export interface OpenAuditorOptions {
  /** Config.audit: false selects the no-op auditor. */
  enabled: boolean;
  /** Config.auditDb: a SQLite file path or a postgres:// URL; default: the state directory. */
  target?: string;
  env: Record<string, string | undefined>;
}

/**
 * Opens the audit database and brings its schema up to date. Rejects when it cannot
 * (unreachable server, unwritable path, newer schema); the caller decides whether that
 * stops the command (the Go original exits 1 with "initializing auditor: …").
 */
export async function openAuditor(options: OpenAuditorOptions): Promise<Auditor> {
  if (!options.enabled) return new NoopAuditor();
  const target = options.target ?? defaultSqlitePath(options.env);
  if (isPostgresUrl(target)) {
    const driver = await openPostgres(target);
    try {
      await migrate(driver);
    } catch (err) {
      await driver.close().catch(() => undefined);
      throw err;
    }
    return new SqlAuditor(driver, redactUrl(target));
  }
  const driver = openSqlite(target);
  try {
    await migrate(driver);
  } catch (err) {
    await driver.close();
    throw new Error(`audit database ${target}: ${(err as Error).message}`);
  }
  return new SqlAuditor(driver, target);
}

/**
 * The auditor as the orchestration should hold it: a failed write is logged as a warning
 * and resolves, so recording can never fail (or crash, when not awaited) a run. Reads and
 * close() still reject.
 */
export function guardAuditor(auditor: Auditor, logger: Logger): Auditor {
  const guard =
    <A extends unknown[]>(call: string, write: (...args: A) => Promise<void>) =>
    (...args: A): Promise<void> =>
      write(...args).catch((err: unknown) => {
        logger.warn("audit: could not record", {
          call,
          run_id: args[0],
          error: err instanceof Error ? err.message : String(err),
          database: auditor.location,
        });
      });
  return {
    backend: auditor.backend,
    location: auditor.location,
    startRun: guard("startRun", (s) => auditor.startRun(s)),
    recordResource: guard("recordResource", (id, r) => auditor.recordResource(id, r)),
    updateVm: guard("updateVm", (id, vm, u) => auditor.updateVm(id, vm, u)),
    updateWorkload: guard("updateWorkload", (id, w, s) => auditor.updateWorkload(id, w, s)),
    recordEvent: guard("recordEvent", (id, e) => auditor.recordEvent(id, e)),
    recordCleanup: guard("recordCleanup", (id, c) => auditor.recordCleanup(id, c)),
    completeRun: guard("completeRun", (id, status, error, at) => auditor.completeRun(id, status, error, at)),
    listRuns: (options) => auditor.listRuns(options),
    getRun: (runId) => auditor.getRun(runId),
    close: () => auditor.close(),
  };
}

/**
 * The auditor of a run or cleanup: opened, guarded, and explained when it cannot be opened,
 * which stops the command before any API call.
 */
export async function openRunAuditor(
  config: { audit: boolean; auditDb?: string; sources?: { auditDb?: string } },
  env: Record<string, string | undefined>,
  logger: Logger,
): Promise<Auditor> {
  try {
    const opened = await openAuditor({
      enabled: config.audit,
      ...(config.auditDb ? { target: config.auditDb } : {}),
      env,
    });
    return guardAuditor(opened, logger);
  } catch (err) {
    // Named as it was given (flag, VIRTWORK_AUDIT_DB, config key); the default is --audit-db's.
    const source = config.sources?.auditDb;
    const field = source && source !== "default" ? source : "--audit-db";
    throw new UsageError(
      `${field}: cannot open the audit database: ${(err as Error).message} (fix the path or URL, or pass --no-audit)`,
    );
  }
}
