/**
 * Embedded SQLite: hot-path statements through prepared statements kept per connection, the claim as one
 * UPDATE ... RETURNING, and keyed inserts that skip held keys with ON CONFLICT DO NOTHING.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Knex } from 'knex';
import { DEFAULT_SQLITE_FILE, type DatabaseTarget } from '../../config.ts';
import { UsageError } from '../../errors.ts';
import type { Dialect } from '../dialect.ts';
import { CLAIM_COLUMNS_SQL, type ItemRow } from '../rows.ts';
import { claimOrder, pickIds } from '../sql/pickRunnable.ts';

type SqliteTarget = Extract<DatabaseTarget, { dialect: 'sqlite' }>;

/** Busy, busy snapshot, locked. */
const TRANSIENT_LOCK_CODES = ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED'];

/** Prepared SQLite statements by connection and SQL text (knex prepares every statement again). */
const statements = new WeakMap<object, Map<string, any>>();
const STATEMENT_CACHE_SIZE = 64;

/**
 * Runs one statement on SQLite through a prepared statement kept per connection, bypassing knex's per-query
 * preparation, which cost as much as the work itself on the hot path. Returns rows for a statement that returns
 * rows, else `{ changes }`.
 */
async function runSqlitePrepared(db: Knex | Knex.Transaction, sql: string, bindings: unknown[]): Promise<any> {
  const client = db.client as any;
  const conn = await client.acquireConnection();
  try {
    let cache = statements.get(conn);
    if (!cache) statements.set(conn, (cache = new Map()));
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

/**
 * The default file's folder (`var/`) is created; any other path's folder must exist. Creating it would turn a
 * misspelt path into a new empty database that reports zero items instead of an error.
 */
function ensureFolder(target: SqliteTarget): void {
  const folder = dirname(target.filename);
  if (existsSync(folder)) return;
  if (resolve(target.filename) === resolve(DEFAULT_SQLITE_FILE)) {
    mkdirSync(folder, { recursive: true });
    return;
  }
  throw new UsageError(
    `the folder of the SQLite database ${target.display} does not exist (${resolve(folder)}); create it (mkdir -p ${folder}) or correct the path in --db / SIGNALQ_DB`,
  );
}

export const sqlite: Dialect = {
  name: 'sqlite',

  knexConfig(target: SqliteTarget): Knex.Config {
    if (target.filename !== ':memory:') ensureFolder(target);
    return {
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
  },

  async checkServer(knex) {
    await knex.raw('SELECT 1');
  },

  describeConnectionError(target, reason) {
    return `cannot open the database ${target.display} (${reason}); check that the path is writable`;
  },

  run: runSqlitePrepared,

  // better-sqlite3 12 bundles SQLite 3.4x: RETURNING since 3.35.
  insertsReturn() {
    return true;
  },

  rowsOf<T>(result: unknown): T[] {
    return result as T[];
  },

  changedRowsOf(result: any) {
    return Number(result?.changes ?? 0);
  },

  insertedIdOf(result: any) {
    return Number(result.lastInsertRowid);
  },

  // SQLite's planner reads the index the pick's WHERE and ORDER BY name.
  lockedRead(query) {
    return query;
  },

  fromIndex(table) {
    return table;
  },

  // SQLite takes ORDER BY/LIMIT only at the end of a compound select, so each part is a subquery there.
  firstOfPicks(parts, order) {
    return `SELECT id FROM (${parts.map((p) => `SELECT * FROM (${p})`).join(' UNION ALL ')} ORDER BY ${order} LIMIT ?) AS picked`;
  },

  skipHeldKeys: 'ON CONFLICT (active_key) DO NOTHING',

  async claimItems(knex, req, stamp) {
    // One statement is one write transaction on SQLite: the pick and the stamp cannot interleave with another claim.
    const pick = pickIds(sqlite, req.types, req.now, req.limit);
    const rows: ItemRow[] = await runSqlitePrepared(knex, `${stamp.sql} WHERE id IN (${pick.sql}) RETURNING ${CLAIM_COLUMNS_SQL}`, [...stamp.bindings, ...pick.bindings]);
    return rows.sort(claimOrder);
  },

  // The database is a file on this host: its clock is this process's.
  async readServerClock() {
    return Date.now();
  },

  // No named locks: a migration that meets another one waits and looks again (migrate.ts).
  migrationLock: null,

  isTransientLockError(err) {
    return TRANSIENT_LOCK_CODES.includes((err as { code?: string })?.code as string);
  },

  isDuplicateKeyError(err) {
    return (err as { code?: string })?.code === 'SQLITE_CONSTRAINT_UNIQUE';
  },
};
