/**
 * The plan the database would use for the claim's pick, for tests that it reads an index, with no sort.
 */
import type { Knex } from 'knex';
import { dialectOf } from '../../src/db/dialect.ts';
import { SKIP_LOCKED } from '../../src/db/dialects/mysql.ts';
import { ITEM_COLUMNS_SQL } from '../../src/db/rows.ts';
import { pickIds, pickRows } from '../../src/db/sql/pickRunnable.ts';

/** The claim's pick as each database plans it: SQLite's EXPLAIN QUERY PLAN details, MySQL's table, key and Extra. */
export async function explainClaim(knex: Knex, now: number, limit: number, types: string[] | null = null): Promise<string> {
  const dialect = dialectOf(knex);
  if (dialect.name === 'sqlite') {
    const pick = pickIds(dialect, types, now, limit);
    const rows = await knex.raw(`EXPLAIN QUERY PLAN ${pick.sql}`, pick.bindings as any[]);
    return (rows as any[]).map((r) => r.detail).join('\n');
  }
  // As the MySQL claim locks: one type or any, the pick itself; several types, each type's pick.
  const single = types === null || types.length === 1;
  const pick = single ? pickRows(dialect, ITEM_COLUMNS_SQL, types?.[0] ?? null, now, limit) : pickIds(dialect, types, now, limit, SKIP_LOCKED);
  const rows = dialect.rowsOf<any>(await knex.raw(`EXPLAIN ${pick.sql}${single ? SKIP_LOCKED : ''}`, pick.bindings as any[]));
  return rows.map((r) => `table=${r.table} key=${r.key} extra=${r.Extra}`).join('\n');
}
