import type { Knex } from 'knex';
import type { ItemStatus } from '../../types.ts';
import { ITEMS, ITEM_COLUMNS, type ItemRow } from '../rows.ts';

/** Which items `listItemRows` lists, and how many at most. */
export interface ListFilter {
  status?: ItemStatus;
  type?: string;
  /**
   * Keyset cursor: only items with a smaller id (the next page after one that ended at this id). Paging by id on
   * the primary key costs the same on the thousandth page as on the first, where an OFFSET reads every row it
   * skips.
   */
  beforeId?: number;
  limit: number;
}

/** The listing's statement, unrun (the benchmark EXPLAINs it). */
export function listItemsQuery(knex: Knex, f: ListFilter): Knex.QueryBuilder {
  const q = knex(ITEMS).select(ITEM_COLUMNS as unknown as string[]);
  if (f.status) q.where('status', f.status);
  if (f.type) q.where('type', f.type);
  if (f.beforeId !== undefined) q.where('id', '<', f.beforeId);
  return q.orderBy('id', 'desc').limit(f.limit);
}

/** Items, newest first, optionally of one status and/or type, optionally before an id. */
export async function listItemRows(knex: Knex, f: ListFilter): Promise<ItemRow[]> {
  return listItemsQuery(knex, f);
}
