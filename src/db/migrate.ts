/**
 * Applies the migrations in `migrations/` (the same ones `npx knex migrate:latest` applies).
 */
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { DatabaseError } from '../errors.ts';

/** Absolute path of the migrations folder. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

const CONFIG: Knex.MigratorConfig = { directory: MIGRATIONS_DIR, loadExtensions: ['.ts'] };

/**
 * Brings the schema up to date. Returns the names of the migrations it applied. Every command calls this, so
 * the common case (nothing to do) only reads the migrations table and takes no lock.
 */
export async function migrateToLatest(knex: Knex): Promise<string[]> {
  const [, pending] = await knex.migrate.list(CONFIG);
  if (pending.length === 0) return [];
  try {
    const [, applied] = await knex.migrate.latest(CONFIG);
    return applied as string[];
  } catch (err) {
    if (/already locked/i.test((err as Error).message)) {
      throw new DatabaseError('the migrations table is locked by another migration; if none is running (one was killed), run: npx knex migrate:unlock', { cause: err });
    }
    throw err;
  }
}
