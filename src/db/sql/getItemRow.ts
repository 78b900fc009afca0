import type { Knex } from 'knex';
import { ITEMS, ITEM_COLUMNS, type ItemRow } from '../rows.ts';

/** One item's row, or undefined. */
export async function getItemRow(knex: Knex, id: number): Promise<ItemRow | undefined> {
  return knex(ITEMS).select(ITEM_COLUMNS as unknown as string[]).where('id', id).first();
}
