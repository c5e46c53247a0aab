import type { Timestamp } from "./auditor.ts";
import { type Dialect, migrationStatements, SCHEMA_VERSION } from "./schema.ts";

export type SqlValue = string | number | null;
export type Row = Record<string, unknown>;

/** The little a backend must provide; SQL uses `?` placeholders in both dialects. */
export interface SqlDriver {
  readonly dialect: Dialect;
  query(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** Runs `fn` in a write transaction (SQLite: BEGIN IMMEDIATE, so writers queue on the busy timeout). */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** UTC, millisecond precision: `2026-06-30T04:05:06.123Z`. */
export function isoTime(at: Timestamp | undefined): string {
  if (at === undefined) return new Date().toISOString();
  const date = typeof at === "string" ? new Date(at) : at;
  if (Number.isNaN(date.getTime())) throw new Error(`invalid timestamp ${String(at)}`);
  return date.toISOString();
}

export function optionalIso(at: Timestamp | undefined): string | null {
  return at === undefined ? null : isoTime(at);
}

/** A stored timestamp back as ISO text (PostgreSQL returns Dates, SQLite the text it was given). */
export function readTime(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/** A stored JSON document (PostgreSQL JSONB arrives parsed, SQLite TEXT does not). */
export function readJson<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  if (typeof value !== "string") return value as T;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

export function readNumber(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  return Number(value);
}

export function readText(value: unknown): string | undefined {
  return value === null || value === undefined ? undefined : String(value);
}

export const flag = (value: boolean): number => (value ? 1 : 0);

const PG_MIGRATION_LOCK = 0x76697277; // "virw": serialises concurrent first opens

/**
 * Brings the schema to SCHEMA_VERSION. `schema_version` holds one row, as in the Go
 * original (inserted as 0 when empty). All pending migrations and the version bump commit
 * together; concurrent openers wait on the write lock and then find nothing left to do.
 */
export async function migrate(driver: SqlDriver): Promise<number> {
  const current = await readVersion(driver);
  if (current === SCHEMA_VERSION) return current;
  if (current !== undefined && current > SCHEMA_VERSION) {
    throw new Error(
      `the audit database has schema version ${current}, newer than this virtwork knows (${SCHEMA_VERSION}); upgrade virtwork`,
    );
  }
  return driver.transaction(async () => {
    if (driver.dialect === "postgres")
      await driver.query(`SELECT pg_advisory_xact_lock(${PG_MIGRATION_LOCK})`);
    await driver.query("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    let version = await readVersion(driver);
    if (version === undefined) {
      await driver.query("INSERT INTO schema_version (version) VALUES (0)");
      version = 0;
    }
    for (; version < SCHEMA_VERSION; version++) {
      for (const sql of migrationStatements(version, driver.dialect)) await driver.query(sql);
      await driver.query("UPDATE schema_version SET version = ?", [version + 1]);
    }
    return version;
  });
}

async function readVersion(driver: SqlDriver): Promise<number | undefined> {
  const exists = await driver.query(
    driver.dialect === "sqlite"
      ? "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
      : "SELECT 1 AS found FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_version'",
  );
  if (exists.length === 0) return undefined;
  const rows = await driver.query("SELECT MAX(version) AS version FROM schema_version");
  return readNumber(rows[0]?.version);
}
