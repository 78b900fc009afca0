/**
 * Opens the database: a knex instance for MySQL/MariaDB or embedded SQLite, checked for what signalq needs.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { DatabaseError } from '../errors.ts';
import type { DatabaseTarget } from '../config.ts';

/** knex settings for a target; `knexfile.ts` uses the same so `npx knex` and `signalq` agree. */
export function knexConfig(target: DatabaseTarget): Knex.Config {
  // knex would print connection failures itself; signalq reports them as one line (and as `databaseError` events).
  const log = { warn() {}, error() {}, debug() {}, deprecate() {} };
  if (target.dialect === 'mysql') {
    return {
      log,
      client: 'mysql2',
      connection: {
        uri: target.url,
        // BIGINT ids and epoch-ms times come back as numbers (all fit in 2^53).
        supportBigNumbers: true,
        // Every character a JavaScript string can hold travels as itself (the tables are utf8mb4 too).
        charset: 'utf8mb4',
        bigNumberStrings: false,
        connectTimeout: 5_000,
      } as Knex.MySql2ConnectionConfig,
      pool: {
        min: 0,
        max: 8,
        afterCreate(conn: any, done: (err: Error | null, conn: any) => void) {
          // READ COMMITTED: the claim's SKIP LOCKED and the fenced updates need no gap locks, which only add
          // lock waits and deadlocks between processors.
          conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', (err: Error | null) => done(err, conn));
        },
      },
      acquireConnectionTimeout: 10_000,
    };
  }
  if (target.filename !== ':memory:') mkdirSync(dirname(target.filename), { recursive: true });
  return {
    log,
    client: 'better-sqlite3',
    connection: { filename: target.filename },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: any, done: (err: Error | null, conn: any) => void) {
        try {
          // WAL lets readers and one writer work at once; FULL makes each commit durable before it returns;
          // busy_timeout makes a second process wait for the write lock instead of failing at once.
          conn.pragma('journal_mode = WAL');
          conn.pragma('synchronous = FULL');
          conn.pragma('busy_timeout = 10000');
          done(null, conn);
        } catch (err) {
          done(err as Error, conn);
        }
      },
    },
  };
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
  let reason = (e?.code ? `${e.code}${e.message && !e.message.includes(e.code) ? ': ' + e.message : ''}` : (e?.message ?? String(err))).split('\n')[0];
  if (target.dialect === 'mysql') {
    const decode = (s: string) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    };
    let database = '';
    try {
      const u = new URL(target.url);
      database = decode(u.pathname.slice(1));
      // stderr ends up in logs: the password goes even if a driver's message quotes it.
      for (const secret of new Set([u.password, decode(u.password)])) if (secret) reason = reason.split(secret).join('***');
    } catch {
      // parseDatabaseUrl made target.url, so it parses; a hand-made target keeps the plain message.
    }
    const db = `the database ${target.display}`;
    const inUrl = 'the URL (SIGNALQ_DB or --db)';
    const ident = /^[A-Za-z0-9_$]+$/.test(database) ? database : `\`${database.replace(/`/g, '``')}\``;
    switch (e?.code) {
      case 'ER_ACCESS_DENIED_ERROR':
      case 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR': // MariaDB's answer for some unknown users
        return `cannot log in to ${db} (${reason}); check the user and password in ${inUrl}`;
      case 'ER_DBACCESS_DENIED_ERROR':
        return `cannot use ${db} (${reason}); check the user and password in ${inUrl}, or grant the account the server names that database (GRANT ALL ON ${ident}.* TO that account)`;
      case 'ER_BAD_DB_ERROR':
        return `${db} does not exist (${reason}); create it: CREATE DATABASE ${ident}, or fix the name in ${inUrl}`;
    }
    return `cannot reach ${db} (${reason}); check that MySQL/MariaDB is running and the URL in SIGNALQ_DB is right (e.g. start it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd)`;
  }
  return `cannot open the database ${target.display} (${reason}); check that the path is writable`;
}

/** MySQL 8.0.1 and MariaDB 10.6 are the first with `SKIP LOCKED`. Returns null when fine, else why not. */
export function checkServerVersion(version: string): string | null {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) return null;
  const [maj, min, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const isMaria = /mariadb/i.test(version);
  const ok = isMaria ? maj > 10 || (maj === 10 && min >= 6) : maj > 8 || (maj === 8 && (min > 0 || patch >= 1));
  return ok ? null : `the server is ${isMaria ? 'MariaDB' : 'MySQL'} ${version}; signalq needs MySQL 8.0.1+ or MariaDB 10.6+ (for SKIP LOCKED)`;
}

/**
 * Opens a knex instance and proves the database answers (and, for MySQL, is recent enough).
 * Throws a `DatabaseError` with one line saying what to check.
 */
export async function openDatabase(target: DatabaseTarget): Promise<Knex> {
  let knex: Knex | undefined;
  try {
    knex = knexFactory(knexConfig(target)); // for SQLite this creates the file's folder, which can fail
    if (target.dialect === 'mysql') {
      const [rows] = await knex.raw('SELECT VERSION() AS v');
      const problem = checkServerVersion(String(rows[0].v));
      if (problem) throw new DatabaseError(problem);
    } else {
      await knex.raw('SELECT 1');
    }
    return knex;
  } catch (err) {
    await knex?.destroy().catch(() => {});
    if (err instanceof DatabaseError) throw err;
    throw new DatabaseError(describeConnectionError(target, err), { cause: err });
  }
}
