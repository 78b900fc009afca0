/**
 * Opens the database: a knex instance for MySQL/MariaDB or embedded SQLite, checked for what signalq needs.
 */
import knexFactory, { type Knex } from 'knex';
import { DatabaseError, UsageError } from '../errors.ts';
import type { DatabaseTarget } from '../config.ts';
import { dialectNamed } from './dialect.ts';

/** knex settings for a target; `knexfile.ts` uses the same so `npx knex` and `signalq` agree. */
export function knexConfig(target: DatabaseTarget): Knex.Config {
  // knex would print connection failures itself; signalq reports them as one line (and as `databaseError` events).
  const log = { warn() {}, error() {}, debug() {}, deprecate() {} };
  return { log, ...dialectNamed(target.dialect).knexConfig(target) };
}

/** Error codes that mean "the server is not there" rather than "the query is wrong". */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', 'PROTOCOL_CONNECTION_LOST', 'ER_ACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR', 'SQLITE_CANTOPEN']);

/** True when an error says the connection is gone or cannot be made (worth waiting and retrying). */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; name?: string; message?: string; fatal?: boolean };
  if (!e) return false;
  if (e.code && UNREACHABLE.has(e.code)) return true;
  if (e.fatal) return true;
  if (e.name === 'KnexTimeoutError') return true;
  return /connect(ion)? (refused|lost|closed)|Connection lost|Can't add new command when connection is in closed state|Pool is closed/i.test(e.message ?? '');
}

/**
 * A one-line explanation of why the database could not be used, naming the URL (password as `***`) and what to do:
 * a refused login and a missing database each get their own advice, since starting the server fixes neither.
 */
export function describeConnectionError(target: DatabaseTarget, err: unknown): string {
  const e = err as { code?: string; message?: string };
  const reason = (e?.code ? `${e.code}${e.message && !e.message.includes(e.code) ? ': ' + e.message : ''}` : (e?.message ?? String(err))).split('\n')[0];
  return dialectNamed(target.dialect).describeConnectionError(target, reason, e?.code);
}

/**
 * Opens a knex instance and proves the database answers (and, for MySQL, is recent enough).
 * Throws a `DatabaseError` with one line saying what to check.
 */
export async function openDatabase(target: DatabaseTarget): Promise<Knex> {
  let knex: Knex | undefined;
  try {
    knex = knexFactory(knexConfig(target)); // for SQLite this checks (or, for the default, creates) the file's folder
    await dialectNamed(target.dialect).checkServer(knex);
    return knex;
  } catch (err) {
    await knex?.destroy().catch(() => {});
    // A path to correct (a SQLite folder that does not exist) is the caller's to fix, not the database's.
    if (err instanceof DatabaseError || err instanceof UsageError) throw err;
    throw new DatabaseError(describeConnectionError(target, err), { cause: err });
  }
}
