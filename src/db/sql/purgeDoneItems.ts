import type { Knex } from 'knex';
import { ITEMS } from '../rows.ts';
import { deleteItemRecords } from './deleteItem.ts';

/**
 * Deletes `done` items finished before `before` (epoch ms), with their history records and access rows, in
 * chunks of one transaction each. Returns how many items it deleted.
 */
export async function purgeDoneItems(knex: Knex, before: number): Promise<number> {
  let total = 0;
  for (;;) {
    const ids = (await knex(ITEMS).select('id').where('status', 'done').andWhere('finished_at', '<', before).limit(5000)).map((r: any) => Number(r.id));
    if (ids.length === 0) return total;
    total += await knex.transaction(async (trx) => {
      const n = await trx(ITEMS).delete().whereIn('id', ids).where('status', 'done');
      await deleteItemRecords(trx, ids);
      return n;
    });
  }
}
