/**
 * Applies the migrations in `migrations/` (the same ones `npx knex migrate:latest` applies).
 *
 * Every command and every queue brings the schema up to date, so several processes often start on a fresh
 * database at once. knex's own migration lock is a row that it checks and then takes, and it creates that row with
 * a check-then-insert: processes starting together on MySQL failed with "migrations table is locked", and could
 * leave two lock rows, after which every migration failed until `knex migrate:unlock`. So on MySQL the whole
 * migration (knex's table set-up included) runs under a server-side named lock (GET_LOCK) for this database:
 * one process migrates, the others wait for it and then find nothing to do. SQLite has no such lock: there a
 * migration that meets another one (a table that now exists, knex's lock taken) waits and looks again.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import { DatabaseError } from '../errors.ts';
import { dialectOf } from './dialect.ts';

/**
 * Absolute path of the migrations folder: `migrations/` beside `src/` in the repository, `dist/migrations/` beside
 * `dist/src/` in the built package (the build keeps the repository's layout, so one relative path serves both).
 */
const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

/** The migrations are TypeScript where this module is (the repository's sources), JavaScript in the built package. */
const EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/**
 * The migrations of this build, each named by its source file (`<name>.ts`) whichever file is loaded. knex records
 * the name of every applied migration and refuses a database whose recorded names it cannot find ("the migration
 * directory is corrupt"): a database migrated from the sources (the tests, `npx knex migrate:latest`) must stay
 * usable by the built package, and the other way round.
 */
export const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    const files = await readdir(MIGRATIONS_DIR);
    return files.filter((f) => f.endsWith(EXTENSION) && !f.endsWith('.d.ts')).sort();
  },
  getMigrationName: (file) => file.slice(0, -EXTENSION.length) + '.ts',
  getMigration: (file) => import(pathToFileURL(join(MIGRATIONS_DIR, file)).href),
};

/**
 * signalq records its migrations in tables of its own, not in knex's default `knex_migrations`: an app that runs
 * its own knex migrations in the same database would otherwise find signalq's names there ("the migration
 * directory is corrupt, the following files are missing"), and signalq the app's.
 */
export const MIGRATIONS_TABLE = 'signalq_migrations';
/** knex names the lock table after the migrations table. */
const LOCK_TABLE = `${MIGRATIONS_TABLE}_lock`;
/** Where signalq 0.1 recorded its migrations (knex's default, shared with the app's own). */
const LEGACY_TABLE = 'knex_migrations';
const CONFIG: Knex.MigratorConfig = { migrationSource, tableName: MIGRATIONS_TABLE };
/** How long a process waits for another one's migration before giving up, in seconds. */
const MIGRATION_WAIT_S = 120;

/**
 * Brings the schema up to date. Returns the names of the migrations it applied. In the common case (nothing to
 * do) it only reads the migrations table.
 */
export async function migrateToLatest(knex: Knex): Promise<string[]> {
  const lock = dialectOf(knex).migrationLock;
  if (!lock) return applyPendingWhenFree(knex);
  if (await isUpToDate(knex)) return [];
  // The named lock belongs to one connection: a transaction keeps that connection for the whole migration,
  // which runs on the pool's other connections.
  return knex.transaction(async (held) => {
    if (!(await lock.take(held, MIGRATION_WAIT_S))) {
      throw new DatabaseError(`another process has been migrating this database for over ${MIGRATION_WAIT_S} s; wait for it, or look for a stuck migration in SHOW PROCESSLIST`);
    }
    try {
      await adoptLegacyRecords(knex);
      await removeDuplicateLockRows(knex);
      await freeKilledLock(knex);
      return await applyPending(knex);
    } finally {
      await lock.release(held);
    }
  });
}

/**
 * True when every migration is applied. It runs before the named lock is taken, so it only reads, and not through
 * knex.migrate.list: that runs knex's table set-up, which inserts a lock row into an empty lock table, and so could
 * add a second row while the process holding the named lock is between creating that table and inserting its own
 * row; knex then counts two free rows and refuses the lock ("Migration table is already locked").
 */
async function isUpToDate(knex: Knex): Promise<boolean> {
  if (!(await knex.schema.hasTable(MIGRATIONS_TABLE)) || !(await knex.schema.hasTable(LOCK_TABLE))) return false;
  const applied = new Set((await knex(MIGRATIONS_TABLE).select('name')).map((r: { name: string }) => r.name));
  return (await migrationSource.getMigrations([])).every((file) => applied.has(migrationSource.getMigrationName(file)));
}

/**
 * Knex's lock is one row; the check-then-insert that creates it could leave two, after which knex could never take
 * it. Keeps one (a set one if any, since someone may hold it) and removes the free extras.
 */
async function removeDuplicateLockRows(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasTable(LOCK_TABLE))) return;
  const rows: { index: number; is_locked: number }[] = await knex(LOCK_TABLE).select('index', 'is_locked').orderBy('index');
  if (rows.length < 2) return;
  const keep = rows.find((r) => Number(r.is_locked) !== 0) ?? rows[0];
  await knex(LOCK_TABLE).whereNot('index', keep.index).andWhere('is_locked', 0).delete();
}

/** Under the named lock no other signalq process is migrating: a set lock was left by a migration that was killed. */
async function freeKilledLock(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable(LOCK_TABLE)) await knex(LOCK_TABLE).update({ is_locked: 0 });
}

/**
 * A database migrated by signalq 0.1 has signalq's records in knex's default table: they move to signalq's own
 * table (once, before it exists), and leave knex's table to the app.
 */
async function adoptLegacyRecords(knex: Knex): Promise<void> {
  if ((await knex.schema.hasTable(MIGRATIONS_TABLE)) || !(await knex.schema.hasTable(LEGACY_TABLE))) return;
  const ours = new Set((await migrationSource.getMigrations([])).map((f) => migrationSource.getMigrationName(f)));
  const rows = (await knex(LEGACY_TABLE).select('name', 'batch', 'migration_time')).filter((r: { name: string }) => ours.has(r.name));
  if (rows.length === 0) return;
  await knex.transaction(async (trx) => {
    // The same shape knex gives its migrations table.
    await trx.schema.createTable(MIGRATIONS_TABLE, (t) => {
      t.increments('id').primary();
      t.string('name');
      t.integer('batch');
      t.timestamp('migration_time');
    });
    await trx(MIGRATIONS_TABLE).insert(rows);
    await trx(LEGACY_TABLE).whereIn('name', rows.map((r: { name: string }) => r.name)).delete();
  });
}

/** How long a SQLite migration waits for another process's, in ms. */
const SQLITE_MIGRATION_WAIT_MS = 10_000;

/** With no named lock (SQLite): applies the pending migrations, waiting while another process applies them. */
async function applyPendingWhenFree(knex: Knex): Promise<string[]> {
  const deadline = Date.now() + SQLITE_MIGRATION_WAIT_MS;
  for (let delay = 20; ; delay = Math.min(500, delay * 2)) {
    try {
      await adoptLegacyRecords(knex);
      await removeDuplicateLockRows(knex);
      return await applyPending(knex);
    } catch (err) {
      const racing = err instanceof DatabaseError || /already exists|SQLITE_BUSY|database is locked/i.test(String((err as Error)?.message));
      if (!racing || Date.now() + delay > deadline) throw err;
      await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
    }
  }
}

async function applyPending(knex: Knex): Promise<string[]> {
  const [, pending] = await knex.migrate.list(CONFIG);
  if (pending.length === 0) return [];
  try {
    const [, applied] = await knex.migrate.latest(CONFIG);
    return applied as string[];
  } catch (err) {
    if (/already locked/i.test((err as Error).message)) {
      throw new DatabaseError(`signalq's migrations table is locked by another migration; if none is running (one was killed), run: npx knex migrate:unlock --migrations-table-name ${MIGRATIONS_TABLE}`, { cause: err });
    }
    throw err;
  }
}
