import type { Knex } from 'knex';
import { SETTINGS } from '../cron-rows.ts';

/** Writes a named setting (insert or replace). */
export async function writeSetting(db: Knex | Knex.Transaction, name: string, value: string): Promise<void> {
  await db(SETTINGS).insert({ name, value }).onConflict('name').merge(['value']);
}
