import type { Knex } from 'knex';
import { ITEMS } from '../rows.ts';
import { CRON_RUNS, type CronRunWithItem } from '../cron-rows.ts';

/**
 * Log entries with what their status is decided from, newest first: of one cron (`cronName`), or every cron's
 * open ones (`open: true`: status still null, item enqueued), which a worker finishes.
 */
export async function listCronRuns(db: Knex | Knex.Transaction, filter: { cronName?: string; open?: boolean; limit: number }): Promise<CronRunWithItem[]> {
  const q = db(`${CRON_RUNS} as r`)
    .leftJoin(`${ITEMS} as i`, 'i.id', 'r.item_id')
    .select('r.*', 'i.status as item_status', 'i.trials as item_trials', 'i.results as item_results')
    .orderBy('r.id', 'desc')
    .limit(filter.limit);
  if (filter.cronName !== undefined) q.where('r.cron_name', filter.cronName);
  if (filter.open) q.whereNull('r.status').whereNotNull('r.item_id');
  return q;
}
