/**
 * The one place where MySQL/MariaDB and SQLite differ: the `Dialect` interface, implemented once per database in
 * `dialects/`, and resolved once per knex instance. The operations in `sql/` ask their knex's dialect for what
 * differs and never for its name; where an operation's shape differs (the claim), it is a method of the dialect.
 */
import type { Knex } from 'knex';
import type { DatabaseTarget } from '../config.ts';
import { retryWithBackoff } from '../retry.ts';
import type { ItemRow } from './rows.ts';
import type { ClaimRequest } from './sql/claimItems.ts';
import { mysql } from './dialects/mysql.ts';
import { sqlite } from './dialects/sqlite.ts';

export type DialectName = 'mysql' | 'sqlite';

/** A statement and its bindings. */
export interface Statement {
  sql: string;
  bindings: unknown[];
}

/** What differs between MySQL/MariaDB and SQLite, for the operations in `sql/`, `connect.ts` and `migrate.ts`. */
export interface Dialect {
  readonly name: DialectName;

  /** knex settings for a target of this dialect (without `log`, which `connect.ts` adds). */
  knexConfig(target: DatabaseTarget): Knex.Config;
  /** Proves a new connection answers and the server is one signalq can use; throws a `DatabaseError` saying why not. */
  checkServer(knex: Knex): Promise<void>;
  /** One line saying why the database could not be used (`reason`, from the driver's error) and what to do. */
  describeConnectionError(target: DatabaseTarget, reason: string, code: string | undefined): string;

  /** Runs a hot-path statement; read its result with `rowsOf` / `changedRowsOf`. */
  run(db: Knex | Knex.Transaction, sql: string, bindings: unknown[]): Promise<unknown>;
  /** Rows of a `run` or `knex.raw` result. */
  rowsOf<T>(result: unknown): T[];
  /** Rows changed by a `run` or `knex.raw` INSERT/UPDATE/DELETE. */
  changedRowsOf(result: unknown): number;
  /** The id a `knex.raw` INSERT of one row gave it. */
  insertedIdOf(result: unknown): number;

  /** The FROM of a read that must go through `index` of `table`. */
  fromIndex(table: string, index: string): string;
  /**
   * A read inside a transaction that keeps its rows from changing until the commit: `FOR UPDATE` on MySQL; on
   * SQLite, where a write transaction already holds the whole database, the read as it is.
   */
  lockedRead(query: Knex.QueryBuilder): Knex.QueryBuilder;
  /**
   * The ids of the first `limit` (the last binding) rows of several picks, each already in `order`, in `order`:
   * how a compound SELECT takes each part's ORDER BY and LIMIT.
   */
  firstOfPicks(parts: string[], order: string): string;
  /**
   * The clause that makes an INSERT skip a row whose dedupe key an unfinished item holds, or null where the
   * database has none that skips only that: the insert then leaves out the holders' keys itself.
   */
  readonly skipHeldKeys: string | null;
  /**
   * Whether an INSERT of `db`'s server can end in `RETURNING` (SQLite 3.35+, MariaDB 10.5+; not MySQL 8): how a
   * bulk insert learns the ids of the rows it wrote. Known once `checkServer` has run.
   */
  insertsReturn(db: Knex | Knex.Transaction): boolean;
  /**
   * One attempt at a claim (see `claimItems`): picks the runnable items and stamps them with `stamp` (an UPDATE
   * without its WHERE) atomically, returning their `CLAIM_COLUMNS` in claim order (`claimItems` completes them with the stamp).
   */
  claimItems(knex: Knex, req: ClaimRequest, stamp: Statement): Promise<ItemRow[]>;
  /** The database server's clock, in epoch ms. */
  readServerClock(knex: Knex): Promise<number>;
  /**
   * Named lock that makes concurrent migrations wait for one another, held by the connection of `held`; null
   * where the database has none (migrate.ts then waits and looks again when migrations meet).
   */
  readonly migrationLock: { take(held: Knex.Transaction, waitS: number): Promise<boolean>; release(held: Knex.Transaction): Promise<void> } | null;

  /** True when `err` means "try the same statement again": a deadlock, a lock wait timeout, a busy database. */
  isTransientLockError(err: unknown): boolean;
  /** True when a write failed because an unfinished item holds one of its dedupe keys. */
  isDuplicateKeyError(err: unknown): boolean;
}

const BY_NAME: Record<DialectName, Dialect> = { mysql, sqlite };

/** The dialect of a target, before there is a knex instance. */
export function dialectNamed(name: DialectName): Dialect {
  return BY_NAME[name];
}

/**
 * Dialects already resolved, by knex client config: a transaction has a client of its own, but shares its knex's
 * config, so a knex and all its transactions resolve once.
 */
const resolved = new WeakMap<object, Dialect>();

/** The dialect of a knex instance or transaction. */
export function dialectOf(db: Knex | Knex.Transaction): Dialect {
  const config = db.client.config;
  let dialect = resolved.get(config);
  if (!dialect) resolved.set(config, (dialect = /mysql/.test(String(config.client)) ? mysql : sqlite));
  return dialect;
}

/** True when `err`, from either database, means "try the same statement again" (for callers that hold no knex). */
export function isTransientLockError(err: unknown): boolean {
  return mysql.isTransientLockError(err) || sqlite.isTransientLockError(err);
}

/** Runs `fn` again (up to `tries` times, with a short growing pause) when it fails on a transient lock error. */
export function retryOnLockConflict<T>(fn: () => Promise<T>, tries = 8): Promise<T> {
  return retryWithBackoff(fn, { firstMs: 2, maxMs: 200, tries, jitter: 1, shouldRetry: isTransientLockError });
}
