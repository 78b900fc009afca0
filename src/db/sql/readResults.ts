/**
 * The stored results of items: a read-back that tells which outcomes of a settle were written and which lost
 * their claim.
 */
import type { Knex } from 'knex';
import { ITEMS } from '../rows.ts';

/** The stored results text of these items (id -> text); missing ids were deleted. */
export async function readResults(knex: Knex, ids: number[]): Promise<Map<number, string>> {
  const rows = await knex(ITEMS).select('id', 'results').whereIn('id', ids);
  return new Map(rows.map((r: { id: number; results: string }) => [Number(r.id), r.results]));
}
