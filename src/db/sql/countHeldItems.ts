import type { Knex } from 'knex';
import { ITEMS } from '../rows.ts';

/** How many items one processor holds, and the smallest of their ids. */
export interface HeldItems {
  owner: string;
  count: number;
  firstId: number;
}

/**
 * Items in progress per owner (`host:pid` of the processor holding them). Reads only the `in_progress` entries
 * of the (status, finished_at) index, which are bounded by what the running workers claimed.
 */
export async function countHeldItems(knex: Knex): Promise<HeldItems[]> {
  const rows = await knex(ITEMS)
    .select('owner')
    .count({ count: '*' })
    .min({ firstId: 'id' })
    .where('status', 'in_progress')
    .groupBy('owner');
  return (rows as any[]).map((r) => ({ owner: String(r.owner ?? ''), count: Number(r.count), firstId: Number(r.firstId) }));
}
