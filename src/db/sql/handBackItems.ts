/**
 * Hand-back: claimed items a processor will not start go back to the queue.
 */
import type { Knex } from 'knex';
import { retryOnLockConflict } from '../dialect.ts';
import { ITEMS } from '../rows.ts';

/** Hands claimed items that never started back to `pending`, with no trial counted (graceful shutdown). */
export async function handBackItems(knex: Knex, token: string, ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  return retryOnLockConflict(async () =>
    knex(ITEMS)
      .update({ status: 'pending', owner: null, claim_token: null, lease_until: null })
      .where('claim_token', token)
      .whereIn('id', ids),
  );
}
