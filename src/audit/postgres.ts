import type { Client } from "pg";
import type { Row, SqlDriver, SqlValue } from "./sql.ts";

export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/** The URL without its password, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://(unparseable URL)";
  }
}

/** `?` placeholders (the SQLite spelling every query uses) → `$1, $2, …`. */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

class PostgresDriver implements SqlDriver {
  readonly dialect = "postgres";
  private lost: Error | undefined;
  private readonly client: Client;

  constructor(client: Client) {
    this.client = client;
    // A dropped connection must not crash the run; the next write reports it instead.
    client.on("error", (err) => {
      this.lost = err;
    });
  }

  async query(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    if (this.lost) throw new Error(`audit database connection lost: ${this.lost.message}`);
    const result = await this.client.query(numberPlaceholders(sql), [...params]);
    return result.rows as Row[];
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.query("BEGIN");
    try {
      const result = await fn();
      await this.query("COMMIT");
      return result;
    } catch (err) {
      await this.client.query("ROLLBACK").catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

/** Connects to PostgreSQL; `pg` is imported here, on first use, never at start-up. */
export async function openPostgres(url: string): Promise<SqlDriver> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({
    connectionString: url,
    application_name: "virtwork",
    connectionTimeoutMillis: 10_000,
    query_timeout: 30_000,
  });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new Error(`cannot connect to ${redactUrl(url)}: ${(err as Error).message}`);
  }
  await client.query("SET TIME ZONE 'UTC'");
  return new PostgresDriver(client);
}
