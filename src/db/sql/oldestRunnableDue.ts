import type { Knex } from 'knex';
import { ITEMS } from '../rows.ts';

/** The due time of the longest-waiting runnable item (the queue's lag), or null when nothing is runnable. */
export async function oldestRunnableDue(knex: Knex, now: number): Promise<number | null> {
  const row = await knex(ITEMS).min({ t: 'run_at' }).where('claimable', 1).andWhere('run_at', '<=', now).first();
  return row?.t == null ? null : Number(row.t);
}
