import type { Knex } from 'knex';
import { CRONS, type CronRow } from '../cron-rows.ts';

/** Adds a cron. Fails with the dialect's duplicate-key error when the name is taken. */
export async function insertCron(db: Knex | Knex.Transaction, row: CronRow): Promise<void> {
  await db(CRONS).insert(row);
}
