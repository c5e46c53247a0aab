import { existsSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Row, SqlDriver, SqlValue } from "./sql.ts";

type SqliteModule = typeof import("node:sqlite");

/** Writers wait this long for another process's write to finish (SQLITE_BUSY otherwise). */
export const BUSY_TIMEOUT_MS = 15_000;

/** `$XDG_STATE_HOME/virtwork/audit.db`, else `~/.local/state/virtwork/audit.db`. */
export function defaultSqlitePath(env: Record<string, string | undefined>): string {
  const state = env.XDG_STATE_HOME?.startsWith("/")
    ? env.XDG_STATE_HOME
    : join(env.HOME || homedir(), ".local", "state");
  return join(state, "virtwork", "audit.db");
}

let sqlite: SqliteModule | undefined;

/**
 * node:sqlite, loaded on first use so runs without audit never pay for it. Node 22 prints
 * "ExperimentalWarning: SQLite is an experimental feature" when the module loads; that one
 * warning is dropped (only while loading, only for this module), every other warning passes.
 */
export function loadSqlite(): SqliteModule {
  if (sqlite) return sqlite;
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === "string" ? warning : warning.message;
    if (text.startsWith("SQLite is an experimental feature")) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  let loaded: SqliteModule | undefined;
  try {
    loaded = process.getBuiltinModule("node:sqlite") as SqliteModule | undefined;
  } finally {
    process.emitWarning = emitWarning;
  }
  if (!loaded?.DatabaseSync) {
    throw new Error(
      `the SQLite audit database needs Node >= 22.13, or Node 22.12 started with --experimental-sqlite (this is ${process.version}); or use --audit-db postgres://… or --no-audit`,
    );
  }
  sqlite = loaded;
  return loaded;
}

class SqliteDriver implements SqlDriver {
  readonly dialect = "sqlite";
  private readonly statements = new Map<string, StatementSync>();
  private readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  async query(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement.all(...params) as Row[];
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const result = await fn();
      this.db.exec("COMMIT");
      return result;
    } catch (err) {
      if (this.db.isTransaction ?? true) {
        try {
          this.db.exec("ROLLBACK");
        } catch {
          // The failed statement already ended the transaction.
        }
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** Runs `fn` again while SQLite answers "database is locked", for up to the busy timeout. */
function retryWhileBusy(fn: () => void): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    try {
      fn();
      return;
    } catch (err) {
      const busy = (err as { errcode?: number }).errcode === 5 || /database is locked/.test(String(err));
      if (!busy || Date.now() > deadline) throw err;
      Atomics.wait(pause, 0, 0, delay + Math.random() * delay);
    }
  }
}

/**
 * mkdir -p, one level at a time from the deepest directory that exists. Not Node's
 * `mkdirSync(…, { recursive: true })`: that never returns for a path under /proc (mkdir there
 * answers ENOENT although the parent exists, and Node keeps retrying the parent), so
 * `--audit-db /proc/x/y.db` used to spin at full CPU instead of failing.
 */
function makeDirs(dir: string, mode: number): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) mkdirSync(d, { mode });
}

/**
 * Opens (creating it and its directory when missing) the SQLite audit database: WAL so
 * readers never block the writer, a busy timeout so concurrent virtwork processes queue
 * instead of failing with "database is locked", and foreign keys on, as in the original.
 */
export function openSqlite(path: string): SqlDriver {
  const { DatabaseSync } = loadSqlite();
  if (path !== ":memory:") makeDirs(dirname(path), 0o700);
  const db = new DatabaseSync(path);
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Switching a new file to WAL needs an exclusive lock, and SQLite may answer BUSY at once
    // (no busy handler, to avoid a deadlock) while another process is creating the same file.
    retryWhileBusy(() => db.exec("PRAGMA journal_mode = WAL"));
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
  } catch (err) {
    db.close();
    throw err;
  }
  return new SqliteDriver(db);
}
