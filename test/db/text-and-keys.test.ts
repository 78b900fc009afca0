/**
 * Keys, types and text stored exactly as given, whatever the server's defaults: MariaDB's stock utf8mb4_general_ci
 * (case-, accent- and trailing-space-insensitive), a latin1 database (MariaDB's compiled default) and a utf8mb3
 * one, beside SQLite. A key or type that compares loosely loses items; a column that cannot hold a character
 * corrupts them.
 */
import { describe, expect, it } from 'vitest';
import type { Handler } from '../../src/types.ts';
import { freshQueue } from '../helpers/queue.ts';

const DATABASES = [
  { name: 'sqlite', dialect: 'sqlite' as const, charset: undefined },
  { name: 'mysql (server defaults)', dialect: 'mysql' as const, charset: undefined },
  { name: 'mysql latin1', dialect: 'mysql' as const, charset: 'latin1' as const },
  { name: 'mysql utf8mb3', dialect: 'mysql' as const, charset: 'utf8mb3' as const },
];

const record = (name: string, types: Handler['types'], seen: number[]): Handler => ({ name, types, handle: (item) => void seen.push(item.id) });

describe.each(DATABASES)('text and keys on $name', ({ dialect, charset }) => {
  const open = () => freshQueue(dialect, {}, { charset });

  it('dedupe keys that differ only in case, accents or trailing spaces are different keys', async () => {
    const q = await open();
    const pairs = [['order-AbC', 'order-abc'], ['café', 'cafe'], ['k1', 'k1 '], ['user-🎉', 'user-🎊']];
    for (const [a, b] of pairs) {
      const first = await q.enqueue('t', { key: a }, { key: a });
      const second = await q.enqueue('t', { key: b }, { key: b });
      expect(first.created, `key ${JSON.stringify(a)}`).toBe(true);
      expect(second.created, `key ${JSON.stringify(b)} after ${JSON.stringify(a)}`).toBe(true);
      expect(second.id).not.toBe(first.id);
      // The same key again is the same item, with nothing written.
      expect(await q.enqueue('t', { again: a }, { key: a })).toEqual({ id: first.id, created: false });
      expect((await q.admin.get(first.id))?.key).toBe(a);
      expect((await q.admin.get(second.id))?.key).toBe(b);
    }
    const r = await q.enqueueMany([
      { type: 't', payload: 1, key: 'Many-A' },
      { type: 't', payload: 2, key: 'many-a' },
      { type: 't', payload: 3, key: 'many-a' }, // the same key twice in one call: the first wins
      { type: 't', payload: 4, key: 'order-AbC' }, // held by an unfinished item above
    ]);
    expect(r).toEqual({ inserted: 2, skipped: 2 });
  });

  it('item types compare exactly: a handler of `audit` never claims `Audit`, and the real items are not starved', async () => {
    const q = await open();
    const seen: number[] = [];
    q.connect(record('audit-log', ['audit'], seen));
    await q.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ type: 'Audit', payload: { i } })));
    const { id } = await q.enqueue('audit', { real: true });
    const s = await q.process({ limit: 3 });
    expect(s).toMatchObject({ claimed: 1, done: 1, handedBack: 0 });
    expect(seen).toEqual([id]);
    expect((await q.process({ limit: 3 })).claimed).toBe(0);
    expect((await q.admin.stats()).counts.pending).toBe(5);
  });

  it('payloads and keys keep every character, keyed or not, one by one or in bulk', async () => {
    const q = await open();
    const text = { msg: 'hi 🎉 there', accents: 'café naïve', cjk: '漢字', zero: 'a\u0000b' };
    const keyed = await q.enqueue('t', text, { key: 'k-🎉' });
    const plain = await q.enqueue('t', text);
    const bulk = await q.enqueueMany([
      { type: 't', payload: { party: '🎉 party' } },
      { type: 't', payload: { party: '🎊 keyed' }, key: 'bulk-🎊' },
    ]);
    expect(bulk).toEqual({ inserted: 2, skipped: 0 });
    expect((await q.admin.get(keyed.id))?.payload).toEqual(text);
    expect((await q.admin.get(keyed.id))?.key).toBe('k-🎉');
    expect((await q.admin.get(plain.id))?.payload).toEqual(text);
    const listed = await q.admin.list({ limit: 10 });
    expect(listed.map((i) => i.payload)).toEqual(expect.arrayContaining([{ party: '🎉 party' }, { party: '🎊 keyed' }]));
    // The emoji key is held as itself: enqueueing it again is the same item, not an error.
    expect(await q.enqueue('t', {}, { key: 'k-🎉' })).toEqual({ id: keyed.id, created: false });
    // Results (handler errors) keep their characters too.
    q.connect({ name: 'h', types: '*', handle: () => { throw new Error('échec 🎉'); } });
    await q.process();
    expect((await q.admin.get(plain.id))?.results.h.error).toBe('échec 🎉');
  });
});
