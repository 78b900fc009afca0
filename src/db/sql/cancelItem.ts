/**
 * Cancel: a queued item is canceled at once; a running one is marked, and the worker that holds it ends it.
 */
import type { Knex } from 'knex';
import { dialectOf, retryOnLockConflict } from '../dialect.ts';
import { ITEMS } from '../rows.ts';

/** Cancels an item if it is still queued (pending or need_retry): it never runs. True when it was. */
export async function cancelQueuedItem(knex: Knex, id: number, now: number): Promise<boolean> {
  const n = await retryOnLockConflict(() =>
    knex(ITEMS)
      .update({ status: 'canceled', finished_at: now, active_key: null })
      .where('id', id)
      .whereIn('status', ['pending', 'need_retry']),
  );
  return n > 0;
}

/** Marks a running item cancel-requested. True when it was running. */
export async function requestCancel(knex: Knex, id: number): Promise<boolean> {
  const n = await retryOnLockConflict(() => knex(ITEMS).update({ cancel_requested: true }).where('id', id).andWhere('status', 'in_progress'));
  return n > 0;
}

/**
 * Items held by `owner` whose cancel was requested. Only claimed items have a lease, so the lease index bounds the
 * read to them (MySQL is held to it; SQLite may prefer its partial index of requested rows).
 */
export async function cancelRequestsFor(knex: Knex, owner: string): Promise<{ id: number; token: string }[]> {
  // `= 1` written out, not bound: SQLite's partial index (WHERE cancel_requested = 1) serves only a literal.
  const rows = await knex.select('id', 'claim_token').from(knex.raw(dialectOf(knex).fromIndex(ITEMS, 'signalq_items_lease')))
    .whereNotNull('lease_until').whereRaw('cancel_requested = 1').andWhere({ owner }).andWhere('status', 'in_progress');
  return rows.map((r: { id: number | string; claim_token: string }) => ({ id: Number(r.id), token: r.claim_token }));
}

/** Whether a cancel of item `id`, held under claim `token`, has been requested. */
export async function isCancelRequested(knex: Knex, id: number, token: string): Promise<boolean> {
  const row = await knex(ITEMS).select('cancel_requested').where({ id, claim_token: token }).first();
  return Number(row?.cancel_requested ?? 0) === 1;
}
