/**
 * Lease renewal: a processor keeps the items it is still working on.
 */
import type { Knex } from 'knex';
import { retryOnLockConflict } from '../dialect.ts';
import { ITEMS } from '../rows.ts';

/** Extends the leases of items still held under these tokens. Returns how many items it extended. */
export async function renewLeases(knex: Knex, tokens: string[], leaseUntil: number): Promise<number> {
  if (tokens.length === 0) return 0;
  return retryOnLockConflict(async () =>
    knex(ITEMS).update({ lease_until: leaseUntil }).whereIn('claim_token', tokens).andWhere('status', 'in_progress'),
  );
}
