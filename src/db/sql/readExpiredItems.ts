/**
 * Lease expiry's read: the items whose processor stopped renewing them.
 */
import type { Knex } from 'knex';
import { ITEMS, ITEM_COLUMNS, type ItemRow } from '../rows.ts';

/**
 * Items whose lease ran out by `now` (their processor died or lost the database), oldest lease first: the lease
 * expiry decides each one like any failed trial and writes it through the fenced settle path, with the token
 * read here, so a processor that comes back and settles first wins.
 */
export async function readExpiredItems(knex: Knex, now: number, limit: number): Promise<(ItemRow & { claim_token: string })[]> {
  return knex(ITEMS)
    .select([...ITEM_COLUMNS, 'claim_token'] as string[])
    .where('status', 'in_progress')
    .andWhere('lease_until', '<', now)
    .orderBy('lease_until')
    .limit(limit);
}
