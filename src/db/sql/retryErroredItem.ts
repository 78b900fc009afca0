import type { Knex } from 'knex';
import { dialectOf } from '../dialect.ts';
import { ITEMS } from '../rows.ts';

/**
 * Puts an `error` item back to `pending` with a fresh set of trials, keeping its results so only the handlers
 * that failed run again. Returns `not-error` when the item is not in `error`, and the id of the unfinished item
 * that holds its dedupe key when another one took the key meanwhile (nothing is changed then).
 */
export async function retryErroredItem(knex: Knex, id: number, now: number): Promise<'retried' | 'not-error' | { keyHeldBy: number }> {
  return knex.transaction(async (trx) => {
    const row = await trx(ITEMS).select('dedupe_key').where({ id, status: 'error' }).first();
    if (!row) return 'not-error';
    if (row.dedupe_key != null) {
      const holder = await trx(ITEMS).select('id').where('active_key', row.dedupe_key).first();
      if (holder) return { keyHeldBy: Number(holder.id) };
    }
    try {
      await trx(ITEMS)
        .update({ status: 'pending', trials: 0, run_at: now, finished_at: null, active_key: row.dedupe_key })
        .where({ id, status: 'error' });
    } catch (err) {
      // An enqueue took the key between the look and the update (MySQL fails the statement, not the transaction).
      if (!dialectOf(trx).isDuplicateKeyError(err)) throw err;
      const holder = await trx(ITEMS).select('id').where('active_key', row.dedupe_key).first();
      return { keyHeldBy: Number(holder?.id ?? -1) };
    }
    return 'retried';
  });
}
