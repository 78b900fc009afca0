import type { Knex } from 'knex';
import type { ItemStatus } from '../../types.ts';
import { ITEMS, ITEM_COLUMNS, type ItemRow } from '../rows.ts';

/** Which items `listItemRows` lists, and how many at most. */
export interface ListFilter {
  status?: ItemStatus;
  type?: string;
  invoker?: string;
  scope?: string;
  limit: number;
}

/** Items, newest first, optionally of one status, type, invoker and/or scope. */
export async function listItemRows(knex: Knex, f: ListFilter): Promise<ItemRow[]> {
  const q = knex(ITEMS).select(ITEM_COLUMNS as unknown as string[]);
  if (f.status) q.where('status', f.status);
  if (f.type) q.where('type', f.type);
  if (f.invoker !== undefined) q.where('invoker', f.invoker);
  if (f.scope !== undefined) q.where('scope', f.scope);
  return q.orderBy('id', 'desc').limit(f.limit);
}
