/**
 * The claim of one named item (`signalq run`, `queue.runNow`): the same stamp as `claimItems`, on the one item,
 * taken only while it is queued, so two claims never take it at once. Runnable now whatever its due time: the
 * caller asked to run it now.
 */
import type { Knex } from 'knex';
import { retryOnLockConflict } from '../dialect.ts';
import { ITEMS, ITEM_COLUMNS, type ItemRow } from '../rows.ts';

/** Takes item `id` if it is `pending` or `need_retry`; returns its row as stamped, or undefined when it was not queued. */
export async function claimItemById(knex: Knex, id: number, req: { token: string; owner: string; now: number; leaseUntil: number }): Promise<ItemRow | undefined> {
  // One conditional UPDATE is the claim on both databases: it takes the item only while it is queued.
  const n = await retryOnLockConflict(() =>
    knex(ITEMS)
      // Claimed is not started: `started_at` is set once the item's handlers run, as for a batch claim.
      .update({ status: 'in_progress', claim_token: req.token, owner: req.owner, lease_until: req.leaseUntil, last_try_at: req.now, started_at: null })
      .where('id', id)
      .whereIn('status', ['pending', 'need_retry']),
  );
  if (n === 0) return undefined;
  // Read under the claim token: what this claim stamped, not what a later claim (after a lost lease) wrote.
  return knex(ITEMS).select(ITEM_COLUMNS as unknown as string[]).where({ id, claim_token: req.token }).first();
}
