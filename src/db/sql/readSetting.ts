import type { Knex } from 'knex';
import { SETTINGS } from '../cron-rows.ts';

/** A named setting's value, or null when it was never written. */
export async function readSetting(db: Knex | Knex.Transaction, name: string): Promise<string | null> {
  const row = await db(SETTINGS).select('value').where({ name }).first();
  return row ? String(row.value) : null;
}
