/**
 * Applies the migrations in `migrations/` (the same ones `npx knex migrate:latest` applies).
 */
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';

/** Absolute path of the migrations folder. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

/** Brings the schema up to date. Returns the names of the migrations it applied. */
export async function migrateToLatest(knex: Knex): Promise<string[]> {
  const [, applied] = await knex.migrate.latest({ directory: MIGRATIONS_DIR, loadExtensions: ['.ts'] });
  return applied as string[];
}
