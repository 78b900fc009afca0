/**
 * Partial results: what the handlers of an item still in progress have done so far.
 */
import type { Knex } from 'knex';
import { ITEMS } from '../rows.ts';
import { distinctIds, fencedBy, runFenced } from './fence.ts';
import { valueById } from './value-by-id.ts';

/**
 * Writes the results of items still in progress (a handler succeeded while others of the same item still run),
 * so that a crash before the item settles does not run that handler again. Fenced like settling; the status,
 * trials and claim are left as they are. Returns how many items it wrote.
 */
export async function writeResults(knex: Knex, entries: { id: number; token: string; results: string }[]): Promise<number> {
  let written = 0;
  for (const group of distinctIds(entries)) {
    const bindings: unknown[] = [];
    const results = valueById(group.map((e) => e.id), group.map((e) => e.results), bindings);
    const sql = `UPDATE ${ITEMS} SET results = ${results} WHERE ${fencedBy(group, bindings)}`;
    written += await runFenced(knex, sql, bindings);
  }
  return written;
}
