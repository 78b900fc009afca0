/**
 * The one place where MySQL/MariaDB and SQLite differ: how a batch is claimed atomically, how a write-lock
 * conflict shows up, and how the server's clock is read.
 */
import type { Knex } from 'knex';
import { retryWithBackoff } from '../retry.ts';

export type DialectName = 'mysql' | 'sqlite';

export function dialectOf(knex: Knex): DialectName {
  return /mysql/.test(String(knex.client.config.client)) ? 'mysql' : 'sqlite';
}

/** MySQL errno / SQLite codes that mean "try the same statement again": deadlock, lock wait timeout, busy. */
export function isTransientLockError(err: unknown): boolean {
  const e = err as { errno?: number; code?: string };
  return e?.errno === 1213 || e?.errno === 1205 || e?.code === 'SQLITE_BUSY' || e?.code === 'SQLITE_BUSY_SNAPSHOT' || e?.code === 'SQLITE_LOCKED';
}

/** Runs `fn` again (up to `tries` times, with a short growing pause) when it fails on a transient lock error. */
export function retryOnLockConflict<T>(fn: () => Promise<T>, tries = 8): Promise<T> {
  return retryWithBackoff(fn, { firstMs: 2, maxMs: 200, tries, jitter: 1, shouldRetry: isTransientLockError });
}

/**
 * The database server's clock, in epoch ms (so leases agree across hosts whose clocks differ). Read as the
 * distance from the epoch in UTC, never through the session's local time: `UNIX_TIMESTAMP(NOW(3))` is an hour off
 * in the hour that repeats when daylight saving time ends, and a worker that synced then took back healthy claims.
 */
export async function readServerClock(knex: Knex): Promise<number> {
  if (dialectOf(knex) === 'mysql') {
    const [rows] = await knex.raw("SELECT TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(3)) AS us");
    return Math.round(Number(rows[0].us) / 1000);
  }
  return Date.now();
}

/** Rows of a `knex.raw` result, whichever driver ran it. */
export function rowsOf<T>(knex: Knex, result: any): T[] {
  return dialectOf(knex) === 'mysql' ? (result[0] as T[]) : (result as T[]);
}

/** Rows changed by a `knex.raw` UPDATE/DELETE, whichever driver ran it. */
export function changedRowsOf(knex: Knex, result: any): number {
  if (dialectOf(knex) === 'mysql') return Number(result[0].affectedRows);
  return Number(result?.changes ?? 0);
}

/** Prepared SQLite statements by connection and SQL text (knex prepares every statement again). */
const sqliteStatements = new WeakMap<object, Map<string, any>>();
const STATEMENT_CACHE_SIZE = 64;

/**
 * Runs one statement on SQLite through a prepared statement kept per connection, bypassing knex's per-query
 * preparation, which cost as much as the work itself on the hot path. Returns rows for a statement that returns
 * rows, else `{ changes }`.
 */
export async function runSqlitePrepared(knex: Knex, sql: string, bindings: unknown[]): Promise<any> {
  const client = knex.client as any;
  const conn = await client.acquireConnection();
  try {
    let cache = sqliteStatements.get(conn);
    if (!cache) sqliteStatements.set(conn, (cache = new Map()));
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = conn.prepare(sql);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      cache.set(sql, stmt);
    }
    return stmt.reader ? stmt.all(bindings) : stmt.run(bindings);
  } finally {
    client.releaseConnection(conn);
  }
}
