import type { Knex } from 'knex';
import type { ItemStatus } from '../../types.ts';
import { ITEMS } from '../rows.ts';

/** Item counts per type and status. */
export async function countByTypeAndStatus(knex: Knex): Promise<{ type: string; status: ItemStatus; count: number }[]> {
  const rows = await knex(ITEMS).select('type', 'status').count({ count: '*' }).groupBy('type', 'status');
  return rows.map((r: any) => ({ type: r.type, status: r.status, count: Number(r.count) }));
}
