import type { Knex } from 'knex';
import { ITEMS } from '../rows.ts';

/** Deletes `done` items finished before `before` (epoch ms), in chunks. Returns how many it deleted. */
export async function purgeDoneItems(knex: Knex, before: number): Promise<number> {
  let total = 0;
  for (;;) {
    const ids = (await knex(ITEMS).select('id').where('status', 'done').andWhere('finished_at', '<', before).limit(5000)).map((r: any) => r.id);
    if (ids.length === 0) return total;
    total += await knex(ITEMS).delete().whereIn('id', ids);
  }
}
