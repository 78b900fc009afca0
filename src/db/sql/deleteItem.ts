import type { Knex } from 'knex';
import type { ItemStatus } from '../../types.ts';
import { ITEMS } from '../rows.ts';

/**
 * Deletes one item if it still has the status the caller read. Returns whether it did. The status is part of the
 * statement because the caller refuses a running item: an item claimed since it was read (now `in_progress`)
 * must not be deleted under its worker.
 */
export async function deleteItem(knex: Knex, id: number, status: Exclude<ItemStatus, 'in_progress'>): Promise<boolean> {
  return (await knex(ITEMS).delete().where({ id, status })) > 0;
}
