/**
 * MySQL/MariaDB: statements through knex, the claim as a transaction of SELECT ... FOR UPDATE SKIP LOCKED and an
 * UPDATE, forced indexes, the server's clock, and a named lock around migrations.
 */
import type { Knex } from 'knex';
import type { DatabaseTarget } from '../../config.ts';
import { DatabaseError } from '../../errors.ts';
import type { Dialect } from '../dialect.ts';
import { ITEMS, CLAIM_COLUMNS_SQL, type ItemRow } from '../rows.ts';
import { claimOrder, pickIds, pickRows } from '../sql/pickRunnable.ts';

type MysqlTarget = Extract<DatabaseTarget, { dialect: 'mysql' }>;

/** The claim's lock on the rows it picks: rows another claimer is taking right now are passed over, not waited for. */
export const SKIP_LOCKED = ' FOR UPDATE SKIP LOCKED';
/** MySQL's errno for a duplicate key; the only unique index besides the primary key is `active_key`'s. */
const ER_DUP_ENTRY = 1062;
/** Deadlock, lock wait timeout. */
const TRANSIENT_LOCK_ERRNOS = [1213, 1205];

/** MySQL 8.0.1 and MariaDB 10.6 are the first with `SKIP LOCKED`. Returns null when fine, else why not. */
export function checkServerVersion(version: string): string | null {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) return null;
  const [maj, min, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const isMaria = /mariadb/i.test(version);
  const ok = isMaria ? maj > 10 || (maj === 10 && min >= 6) : maj > 8 || (maj === 8 && (min > 0 || patch >= 1));
  return ok ? null : `the server is ${isMaria ? 'MariaDB' : 'MySQL'} ${version}; signalq needs MySQL 8.0.1+ or MariaDB 10.6+ (for SKIP LOCKED)`;
}

/** Per knex configuration (shared by its transactions): whether its server has INSERT ... RETURNING. */
const returningServers = new WeakMap<object, boolean>();

export const mysql: Dialect = {
  name: 'mysql',

  knexConfig(target: MysqlTarget): Knex.Config {
    return {
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
  },

  async checkServer(knex) {
    const [rows] = await knex.raw('SELECT VERSION() AS v');
    const problem = checkServerVersion(String(rows[0].v));
    if (problem) throw new DatabaseError(problem);
    // Every MariaDB signalq takes (10.6+) has INSERT ... RETURNING; MySQL 8 has none.
    returningServers.set(knex.client.config, /mariadb/i.test(String(rows[0].v)));
  },

  insertsReturn(db) {
    return returningServers.get(db.client.config) ?? false;
  },

  describeConnectionError(target: MysqlTarget, reason, code) {
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
    switch (code) {
      case 'ER_ACCESS_DENIED_ERROR':
      case 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR': // MariaDB's answer for some unknown users
        return `cannot log in to ${db} (${reason}); check the user and password in ${inUrl}`;
      case 'ER_DBACCESS_DENIED_ERROR':
        return `cannot use ${db} (${reason}); check the user and password in ${inUrl}, or grant the account the server names that database (GRANT ALL ON ${ident}.* TO that account)`;
      case 'ER_BAD_DB_ERROR':
        return `${db} does not exist (${reason}); create it: CREATE DATABASE ${ident}, or fix the name in ${inUrl}`;
    }
    return `cannot reach ${db} (${reason}); check that MySQL/MariaDB is running and the URL in SIGNALQ_DB is right (e.g. start it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd)`;
  },

  run(db, sql, bindings) {
    return db.raw(sql, bindings as any[]);
  },

  rowsOf<T>(result: any): T[] {
    return result[0] as T[];
  },

  changedRowsOf(result: any) {
    return Number(result[0].affectedRows);
  },

  insertedIdOf(result: any) {
    return Number(result[0].insertId);
  },

  lockedRead(query) {
    return query.forUpdate();
  },

  fromIndex(table, index) {
    // MySQL's optimizer picks a full scan plus a sort when most rows are runnable (a fresh backlog), which costs
    // more as the backlog grows; the index is always right for "first N in order", so it is forced.
    return `${table} FORCE INDEX (${index})`;
  },

  firstOfPicks(parts, order) {
    return `SELECT id FROM (${parts.map((p) => `(${p})`).join(' UNION ALL ')}) AS picked ORDER BY ${order} LIMIT ?`;
  },

  // A plain INSERT fails on a held key (the callers find the holders and leave them out): `INSERT IGNORE` would
  // also turn every conversion error of the statement into a warning and store a damaged or clamped value without
  // a word.
  skipHeldKeys: null,

  claimItems(knex, req, stamp) {
    return knex.transaction(async (trx) => {
      let rows: ItemRow[];
      if (req.types === null || req.types.length === 1) {
        const pick = pickRows(mysql, CLAIM_COLUMNS_SQL, req.types?.[0] ?? null, req.now, req.limit);
        [rows] = await trx.raw(`${pick.sql}${SKIP_LOCKED}`, pick.bindings as any[]);
      } else {
        // Several types: each type's first `limit` in order, locked as read, then the first `limit` of those
        // (the rest stay locked only until this transaction ends). Payloads are read for the chosen rows only.
        const pick = pickIds(mysql, req.types, req.now, req.limit, SKIP_LOCKED);
        const [ids] = await trx.raw(pick.sql, pick.bindings as any[]);
        if (ids.length === 0) return [];
        [rows] = await trx.raw(`SELECT ${CLAIM_COLUMNS_SQL} FROM ${ITEMS} WHERE id IN (${ids.map(() => '?').join(', ')})`, ids.map((r: { id: number }) => r.id));
        rows.sort(claimOrder);
      }
      if (rows.length === 0) return [];
      await trx.raw(`${stamp.sql} WHERE id IN (${rows.map(() => '?').join(', ')})`, [...stamp.bindings, ...rows.map((r) => r.id)] as any[]);
      return rows;
    });
  },

  // Read as the distance from the epoch in UTC, never through the session's local time: `UNIX_TIMESTAMP(NOW(3))` is
  // an hour off in the hour that repeats when daylight saving time ends, and a worker that synced then took back
  // healthy claims.
  async readServerClock(knex) {
    const [rows] = await knex.raw("SELECT TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(3)) AS us");
    return Math.round(Number(rows[0].us) / 1000);
  },

  // GET_LOCK: a server-side lock by name, one per database; lock names are at most 64 characters.
  migrationLock: {
    async take(held, waitS) {
      const [rows] = await held.raw("SELECT GET_LOCK(CONCAT('signalq-migrate:', LEFT(DATABASE(), 48)), ?) AS got", [waitS]);
      return Number(rows[0].got) === 1;
    },
    async release(held) {
      await held.raw("SELECT RELEASE_LOCK(CONCAT('signalq-migrate:', LEFT(DATABASE(), 48)))");
    },
  },

  isTransientLockError(err) {
    return TRANSIENT_LOCK_ERRNOS.includes((err as { errno?: number })?.errno as number);
  },

  isDuplicateKeyError(err) {
    return (err as { errno?: number })?.errno === ER_DUP_ENTRY;
  },
};
