import type { Knex } from 'knex';
import { ITEMS } from '../rows.ts';

/**
 * Ids of `error` items, oldest first, optionally of one type, after `afterId` (for going through them in pages).
 */
export async function erroredItemIds(knex: Knex, opts: { type?: string; afterId: number; limit: number }): Promise<number[]> {
  const q = knex(ITEMS).select('id').where('status', 'error').andWhere('id', '>', opts.afterId);
  if (opts.type) q.andWhere('type', opts.type);
  return (await q.orderBy('id').limit(opts.limit)).map((r: { id: number }) => Number(r.id));
}
