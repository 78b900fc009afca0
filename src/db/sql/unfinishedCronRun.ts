import type { Knex } from 'knex';
import { ITEMS } from '../rows.ts';
import { CRON_RUNS } from '../cron-rows.ts';

/**
 * The id of an item a cron enqueued that is not finished yet (pending, in progress or waiting for a retry), or
 * null: what a cron that must not overlap checks before enqueueing again.
 */
export async function unfinishedCronRun(db: Knex | Knex.Transaction, cronName: string): Promise<number | null> {
  const row = await db(`${CRON_RUNS} as r`)
    .join(`${ITEMS} as i`, 'i.id', 'r.item_id')
    .where('r.cron_name', cronName)
    .whereNull('r.status')
    .whereIn('i.status', ['pending', 'in_progress', 'need_retry'])
    .select('i.id')
    .first();
  return row ? Number(row.id) : null;
}
