/**
 * `valueById`, the per-item value expression of the writes that settle many items at once: every id gets its own
 * value and an id not listed gets NULL, at every size around its leaf and split boundaries, on both databases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { valueById } from '../../src/db/sql/value-by-id.ts';
import { openDatabase } from '../../src/db/connect.ts';
import { parseDatabaseUrl } from '../../src/config.ts';
import { DIALECTS, freshDatabase } from '../helpers/databases.ts';

describe.each(DIALECTS)('valueById on %s', (dialect) => {
  let knex: Knex;
  beforeAll(async () => {
    knex = await openDatabase(parseDatabaseUrl(await freshDatabase(dialect)));
    await knex.schema.createTable('ids', (t) => t.bigInteger('id').primary());
  });
  afterAll(() => knex?.destroy());

  it('gives each listed id its value and any other id NULL, for 0 to 500 ids in any order', async () => {
    await knex('ids').delete();
    const all = Array.from({ length: 1000 }, (_, i) => i * 3 + 1);
    for (let i = 0; i < all.length; i += 250) await knex('ids').insert(all.slice(i, i + 250).map((id) => ({ id })));
    for (const n of [0, 1, 2, 7, 8, 9, 16, 17, 33, 127, 500]) {
      // A shuffled pick of n ids, each with a value of its own (some repeated, some null).
      const ids = [...all].sort(() => Math.random() - 0.5).slice(0, n);
      const values = ids.map((id, i) => (i % 7 === 3 ? null : `v${id % 50}`));
      const bindings: unknown[] = [];
      const expr = valueById(ids, values, bindings);
      const rows: { id: number; v: string | null }[] = await knex.select('id', knex.raw(`${expr} AS v`, bindings as any[])).from('ids');
      const want = new Map(ids.map((id, i) => [id, values[i]]));
      expect(rows.length).toBe(all.length);
      for (const r of rows) expect([n, Number(r.id), r.v]).toEqual([n, Number(r.id), want.get(Number(r.id)) ?? null]);
    }
  });
});
