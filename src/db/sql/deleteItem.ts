import type { Knex } from 'knex';
import type { ItemStatus } from '../../types.ts';
import { HISTORY, ITEMS, ITEM_ACCESS } from '../rows.ts';

/**
 * Deletes one item, with its history records and access row, if it still has the status the caller read. Returns
 * whether it did. The status is part of the statement because the caller refuses a running item: an item claimed
 * since it was read (now `in_progress`) must not be deleted under its worker.
 */
export async function deleteItem(knex: Knex, id: number, status: Exclude<ItemStatus, 'in_progress'>): Promise<boolean> {
  return knex.transaction(async (trx) => {
    if ((await trx(ITEMS).delete().where({ id, status })) === 0) return false;
    await deleteItemRecords(trx, [id]);
    return true;
  });
}

/** Deletes what other tables keep of these (deleted) items: their history records and access rows. */
export async function deleteItemRecords(trx: Knex | Knex.Transaction, ids: number[]): Promise<void> {
  await trx(HISTORY).whereIn('item_id', ids).delete();
  await trx(ITEM_ACCESS).whereIn('item_id', ids).delete();
}
