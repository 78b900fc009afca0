import type { Knex } from 'knex';
import { CRON_RUNS } from '../cron-rows.ts';

/**
 * Deletes a cron's log entries beyond the newest `keep` (at least 1). The newest entry always stays: it holds the
 * latest tick's key. Returns how many were deleted.
 */
export async function pruneCronRuns(db: Knex, cronName: string, keep: number): Promise<number> {
  const cut = await db(CRON_RUNS).select('id').where({ cron_name: cronName }).orderBy('id', 'desc').offset(Math.max(1, keep)).limit(1).first();
  if (!cut) return 0;
  return db(CRON_RUNS).delete().where({ cron_name: cronName }).andWhere('id', '<=', cut.id);
}
