/**
 * SQL of the operators' reads and steering: one item, listings, counts, retry of a failed item, purge.
 * (The hot path, from insert to settle, is in items.ts.)
 */
import type { Knex } from 'knex';
import type { ItemStatus } from '../types.ts';
import { dialectOf } from './dialect.ts';
import { ITEMS, ITEM_COLUMNS, type ItemRow } from './rows.ts';

/** One item's row, or undefined. */
export async function getItemRow(knex: Knex, id: number): Promise<ItemRow | undefined> {
  return knex(ITEMS).select(ITEM_COLUMNS as unknown as string[]).where('id', id).first();
}

export interface ListFilter {
  status?: ItemStatus;
  type?: string;
  limit: number;
}

/** Items, newest first, optionally of one status and/or type. */
export async function listItemRows(knex: Knex, f: ListFilter): Promise<ItemRow[]> {
  const q = knex(ITEMS).select(ITEM_COLUMNS as unknown as string[]);
  if (f.status) q.where('status', f.status);
  if (f.type) q.where('type', f.type);
  return q.orderBy('id', 'desc').limit(f.limit);
}

/** Item counts per type and status. */
export async function countByTypeAndStatus(knex: Knex): Promise<{ type: string; status: ItemStatus; count: number }[]> {
  const rows = await knex(ITEMS).select('type', 'status').count({ count: '*' }).groupBy('type', 'status');
  return rows.map((r: any) => ({ type: r.type, status: r.status, count: Number(r.count) }));
}

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

/** Deletes `done` items finished before `before` (epoch ms), in chunks. Returns how many it deleted. */
export async function purgeDoneItems(knex: Knex, before: number): Promise<number> {
  let total = 0;
  for (;;) {
    const ids = (await knex(ITEMS).select('id').where('status', 'done').andWhere('finished_at', '<', before).limit(5000)).map((r: any) => r.id);
    if (ids.length === 0) return total;
    total += await knex(ITEMS).delete().whereIn('id', ids);
  }
}

/**
 * Ids of `error` items, oldest first, optionally of one type, after `afterId` (for going through them in pages).
 */
export async function erroredItemIds(knex: Knex, opts: { type?: string; afterId: number; limit: number }): Promise<number[]> {
  const q = knex(ITEMS).select('id').where('status', 'error').andWhere('id', '>', opts.afterId);
  if (opts.type) q.andWhere('type', opts.type);
  return (await q.orderBy('id').limit(opts.limit)).map((r: { id: number }) => Number(r.id));
}

/** The due time of the longest-waiting runnable item (the queue's lag), or null when nothing is runnable. */
export async function oldestRunnableDue(knex: Knex, now: number): Promise<number | null> {
  const row = await knex(ITEMS).min({ t: 'run_at' }).where('claimable', 1).andWhere('run_at', '<=', now).first();
  return row?.t == null ? null : Number(row.t);
}
