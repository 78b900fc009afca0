/**
 * The claim: takes a batch of runnable items for one processor. Its shape differs by database (one UPDATE ...
 * RETURNING on SQLite, SELECT ... FOR UPDATE SKIP LOCKED then UPDATE in a transaction on MySQL), so the pick and
 * the stamp are each dialect's `claimItems`; this is what both share.
 */
import type { Knex } from 'knex';
import { dialectOf, retryOnLockConflict } from '../dialect.ts';
import { ITEMS, claimedRow, type ItemRow } from '../rows.ts';

/** What a claim needs to know. */
export interface ClaimRequest {
  token: string;
  owner: string;
  now: number;
  leaseUntil: number;
  limit: number;
  /** Only these types (the ones a connected handler takes); null for every type. */
  types: string[] | null;
}

/**
 * Atomically takes up to `limit` runnable items (pending or need_retry, due by `now`) in order of priority, due
 * time and id, stamping them with the claim token, owner and lease. Two claims at once never take the same item.
 */
export async function claimItems(knex: Knex, req: ClaimRequest): Promise<ItemRow[]> {
  if (req.types && req.types.length === 0) return [];
  const stamp = {
    // Claimed is not started: `started_at` is set once the item's handlers run (an item may wait for a free slot).
    sql: `UPDATE ${ITEMS} SET status = 'in_progress', claim_token = ?, owner = ?, lease_until = ?, last_try_at = ?, started_at = NULL`,
    bindings: [req.token, req.owner, req.leaseUntil, req.now],
  };
  const dialect = dialectOf(knex);
  const rows = await retryOnLockConflict(() => dialect.claimItems(knex, req, stamp));
  for (const row of rows) claimedRow(row, req.owner, req.leaseUntil, req.now);
  return rows;
}
