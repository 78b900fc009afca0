/**
 * The one place where MySQL/MariaDB and SQLite differ: how a batch is claimed atomically, how a write-lock
 * conflict shows up, and how the server's clock is read.
 */
import type { Knex } from 'knex';

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
export async function retryOnLockConflict<T>(fn: () => Promise<T>, tries = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransientLockError(err) || attempt >= tries) throw err;
      await new Promise((r) => setTimeout(r, Math.min(200, 2 ** attempt) + Math.random() * 5));
    }
  }
}

/** The database server's clock, in epoch ms (so leases agree across hosts whose clocks differ). */
export async function readServerClock(knex: Knex): Promise<number> {
  if (dialectOf(knex) === 'mysql') {
    const [rows] = await knex.raw('SELECT UNIX_TIMESTAMP(NOW(3)) AS now');
    return Math.round(Number(rows[0].now) * 1000);
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
