import type { Knex } from 'knex';
import { HISTORY } from '../rows.ts';

/** A stored history record. */
export interface HistoryRow {
  id: number;
  item_id: number;
  handler: string;
  at: number;
  subject: string | null;
  status: string | null;
  comment: string;
}

/** An item's history records in the order they were written, after record `afterId`, at most `limit`. */
export async function readHistory(knex: Knex, itemId: number, { afterId = 0, limit = 1000 }: { afterId?: number; limit?: number } = {}): Promise<HistoryRow[]> {
  return knex(HISTORY).select('id', 'item_id', 'handler', 'at', 'subject', 'status', 'comment')
    .where('item_id', itemId).andWhere('id', '>', afterId).orderBy('id').limit(limit);
}

/** How many history records an item has. */
export async function countHistory(knex: Knex, itemId: number): Promise<number> {
  const row = await knex(HISTORY).where('item_id', itemId).count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}
