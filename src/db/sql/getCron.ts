import type { Knex } from 'knex';
import { CRONS, type CronRow } from '../cron-rows.ts';

/** One cron by name, or undefined. */
export async function getCron(db: Knex | Knex.Transaction, name: string): Promise<CronRow | undefined> {
  return db(CRONS).select('*').where({ name }).first();
}
