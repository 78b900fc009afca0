import type { Knex } from 'knex';
import { CRON_RUNS } from '../cron-rows.ts';

/**
 * Records a handled tick (and its log entry) in the caller's transaction. The key (cron_name, scheduled_at) is
 * UNIQUE: when another worker recorded the same tick first, this fails with the dialect's duplicate-key error and
 * the caller rolls back, item included.
 */
export async function insertCronRun(
  trx: Knex.Transaction,
  run: { cron_name: string; scheduled_at: number; item_id: number | null; status: string | null; message: string | null; created_at: number },
): Promise<void> {
  await trx(CRON_RUNS).insert({ ...run, finished_at: run.status == null ? null : run.created_at });
}
