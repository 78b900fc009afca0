import type { Knex } from 'knex';
import { CRONS, type CronRow } from '../cron-rows.ts';

/** Changes some columns of one cron. Returns whether it exists. */
export async function updateCron(db: Knex | Knex.Transaction, name: string, patch: Partial<Omit<CronRow, 'name'>>): Promise<boolean> {
  return (await db(CRONS).update(patch).where({ name })) > 0;
}
