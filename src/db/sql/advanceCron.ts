import type { Knex } from 'knex';
import { CRONS } from '../cron-rows.ts';

/**
 * Moves a cron's `next_run_at` from the value the caller read (`from`) to `to`, in the caller's transaction, only
 * if it is still `from` and the cron is still activated. Returns whether it did: false means another worker
 * handled these ticks first (or the cron was changed or disabled meanwhile), and the caller must roll back.
 * The UPDATE is the transaction's first write: on MySQL it locks the cron's row, so a second worker's waits and
 * then finds `next_run_at` moved; on SQLite it takes the database's write lock.
 */
export async function advanceCron(trx: Knex.Transaction, name: string, from: number, to: number | null, lastRunAt: number | null, now: number): Promise<boolean> {
  const patch: Record<string, unknown> = { next_run_at: to, updated_at: now };
  if (lastRunAt != null) patch.last_run_at = lastRunAt;
  return (await trx(CRONS).update(patch).where({ name, next_run_at: from }).andWhere('activated', 1)) === 1;
}
