import type { Knex } from 'knex';
import { CRONS, type CronRow } from '../cron-rows.ts';

/** Every cron, by name (a crontab is small: tens of rows). */
export async function listCrons(db: Knex | Knex.Transaction): Promise<CronRow[]> {
  return db(CRONS).select('*').orderBy('name');
}
