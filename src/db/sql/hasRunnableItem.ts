/**
 * The idle probe: whether anything is runnable, without claiming it.
 */
import type { Knex } from 'knex';
import { dialectOf } from '../dialect.ts';
import { pickIds } from './pickRunnable.ts';

/**
 * True when at least one item is runnable now: the idle worker's cheap poll (one index probe, or one per type).
 */
export async function hasRunnableItem(knex: Knex, now: number, types: string[] | null): Promise<boolean> {
  if (types && types.length === 0) return false;
  // Raw SQL: an idle worker sends this about 100 times a second, and knex's builder cost more CPU than the query.
  const dialect = dialectOf(knex);
  const { sql, bindings } = pickIds(dialect, types, now, 1);
  return dialect.rowsOf(await dialect.run(knex, sql, bindings)).length > 0;
}
