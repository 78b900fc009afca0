/**
 * The queue end to end, on SQLite and on MySQL/MariaDB: enqueue -> claim -> processItem -> settle.
 */
import { describe, expect, it } from 'vitest';
import { PermanentError, UsageError } from '../../src/errors.ts';
import type { Handler, Item } from '../../src/types.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue, sameDatabase } from '../helpers/queue.ts';

const ok = (name: string, types: Handler['types'] = '*', seen: number[] = []): Handler => ({
  name,
  types,
  handle: (item) => void seen.push(item.id),
});

describe.each(DIALECTS)('queue on %s', (dialect) => {
  it('runs every handler that takes an item and marks it done with each result', async () => {
    const q = await freshQueue(dialect);
    const a: number[] = [];
    const b: number[] = [];
    const other: number[] = [];
    q.connect(ok('a', '*', a)).connect(ok('b', ['mail'], b)).connect(ok('other', ['sms'], other));
    const { id, created } = await q.enqueue('mail', { to: 'x@example.com' });
    expect(created).toBe(true);
    const s = await q.process();
    expect(s).toMatchObject({ claimed: 1, done: 1, retry: 0, error: 0 });
    expect(a).toEqual([id]);
    expect(b).toEqual([id]);
    expect(other).toEqual([]);
    const item = await q.admin.get(id);
    expect(item?.status).toBe('done');
    expect(item?.trials).toBe(1);
    expect(Object.keys(item!.results).sort()).toEqual(['a', 'b']);
    expect(item?.results.a.ok).toBe(true);
    expect(item?.payload).toEqual({ to: 'x@example.com' });
    expect(item?.finishedAt).toBeInstanceOf(Date);
  });

  it('retries only the handlers that failed, then goes done', async () => {
    const q = await freshQueue(dialect);
    const good: number[] = [];
    let flakyRuns = 0;
    q.connect(ok('good', '*', good));
    q.connect({ name: 'flaky', types: '*', handle: () => { if (++flakyRuns < 3) throw new Error(`boom ${flakyRuns}`); } });
    const { id } = await q.enqueue('t', {});
    expect(await q.process()).toMatchObject({ claimed: 1, retry: 1 });
    let item = await q.admin.get(id);
    expect(item).toMatchObject({ status: 'need_retry', trials: 1 });
    expect(item?.results.flaky).toMatchObject({ ok: false, error: 'boom 1', runs: 1 });
    await q.process();
    await q.process();
    item = await q.admin.get(id);
    expect(item).toMatchObject({ status: 'done', trials: 3 });
    expect(good).toEqual([id]); // ran once, never again
    expect(flakyRuns).toBe(3);
    expect(item?.results.flaky).toMatchObject({ ok: true, runs: 3 });
  });

  it('goes to error after maxTrials, keeps every last error, and `retry` runs only the failed handler', async () => {
    const q = await freshQueue(dialect);
    let fixed = false;
    const good: number[] = [];
    q.connect(ok('good', '*', good));
    q.connect({ name: 'bad', types: '*', handle: () => { if (!fixed) throw new Error('still broken'); } });
    const { id } = await q.enqueue('t', { n: 1 }, { maxTrials: 2 });
    await q.process();
    await q.process();
    let item = await q.admin.get(id);
    expect(item).toMatchObject({ status: 'error', trials: 2 });
    expect(item?.results.bad).toMatchObject({ ok: false, error: 'still broken' });
    expect((await q.process()).claimed).toBe(0); // error is final
    item = await q.admin.retry(id);
    expect(item).toMatchObject({ status: 'pending', trials: 0 });
    expect(item.results.good.ok).toBe(true);
    fixed = true;
    expect(await q.process()).toMatchObject({ claimed: 1, done: 1 });
    expect(good).toEqual([id]);
    await expect(q.admin.retry(id)).rejects.toThrow(/is done, not error/);
    await expect(q.admin.retry(99999)).rejects.toThrow(/no item with id 99999/);
  });

  it('retry refuses an item whose dedupe key another unfinished item took meanwhile', async () => {
    const q = await freshQueue(dialect);
    q.connect({ name: 'perm', types: ['p'], handle: () => { throw new PermanentError('no'); } });
    const first = await q.enqueue('p', {}, { key: 'k1' });
    await q.process();
    expect((await q.admin.get(first.id))?.status).toBe('error');
    const second = await q.enqueue('p', {}, { key: 'k1' }); // the key is free once the first finished
    expect(second.created).toBe(true);
    await expect(q.admin.retry(first.id)).rejects.toThrow(`dedupe key is held by unfinished item ${second.id}`);
    expect((await q.admin.get(first.id))?.status).toBe('error');
  });

  it('retryAll puts every error item (of a type) back to pending', async () => {
    const q = await freshQueue(dialect);
    q.connect({ name: 'perm', types: '*', handle: () => { throw new PermanentError('no'); } });
    await q.enqueueMany([{ type: 'a', payload: 1 }, { type: 'a', payload: 2 }, { type: 'b', payload: 3 }]);
    await q.process();
    expect((await q.admin.stats()).counts.error).toBe(3);
    expect(await q.admin.retryAll('a')).toEqual({ retried: 2, skipped: 0 });
    expect((await q.admin.stats()).counts).toMatchObject({ pending: 2, error: 1 });
    expect(await q.admin.retryAll()).toEqual({ retried: 1, skipped: 0 });
    expect((await q.admin.stats()).counts).toMatchObject({ pending: 3, error: 0 });
  });

  it('a PermanentError goes straight to error; a handler past its timeout counts as failed', async () => {
    const q = await freshQueue(dialect);
    q.connect({ name: 'perm', types: ['p'], handle: () => { throw new PermanentError('bad address'); } });
    let signal: AbortSignal | undefined;
    q.connect({ name: 'slow', types: ['s'], timeoutMs: 50, handle: (_item, ctx) => { signal = ctx.signal; return new Promise((r) => setTimeout(r, 2000)); } });
    const p = await q.enqueue('p', {});
    const s = await q.enqueue('s', {});
    const summary = await q.process();
    expect(summary).toMatchObject({ claimed: 2, error: 1, retry: 1 });
    expect(await q.admin.get(p.id)).toMatchObject({ status: 'error', trials: 1 });
    const slow = await q.admin.get(s.id);
    expect(slow?.status).toBe('need_retry');
    expect(slow?.results.slow.error).toMatch(/timeout of 50 ms/);
    expect(signal?.aborted).toBe(true); // the handler was told to give up
    expect(String(signal?.reason)).toMatch(/timeout of 50 ms/);
  });

  it('a dedupe key returns the unfinished item and writes nothing; once done the key is free', async () => {
    const q = await freshQueue(dialect);
    q.connect(ok('h'));
    const first = await q.enqueue('t', { v: 1 }, { key: 'order-7' });
    const again = await q.enqueue('t', { v: 2 }, { key: 'order-7' });
    expect(again).toEqual({ id: first.id, created: false });
    expect((await q.admin.stats()).total).toBe(1);
    const many = await q.enqueueMany([{ type: 't', payload: {}, key: 'order-7' }, { type: 't', payload: {}, key: 'order-8' }]);
    expect(many).toEqual({ inserted: 1, skipped: 1 });
    await q.process();
    const later = await q.enqueue('t', { v: 3 }, { key: 'order-7' });
    expect(later.created).toBe(true);
    expect(later.id).not.toBe(first.id);
  });

  it("commits and rolls back with the app's own transaction", async () => {
    const q = await freshQueue(dialect);
    await q.knex.schema.createTable('orders', (t) => { t.increments('id'); t.string('name'); });
    await expect(
      q.knex.transaction(async (trx) => {
        await trx('orders').insert({ name: 'lost' });
        await q.enqueue('t', { order: 'lost' }, { trx });
        await q.enqueueMany([{ type: 't', payload: { order: 'lost too' } }], { trx });
        throw new Error('app failed');
      }),
    ).rejects.toThrow('app failed');
    expect((await q.admin.stats()).total).toBe(0);
    await q.knex.transaction(async (trx) => {
      await trx('orders').insert({ name: 'kept' });
      await q.enqueue('t', { order: 'kept' }, { trx });
    });
    expect((await q.admin.stats()).total).toBe(1);
  });

  it('refuses bad input with a message naming it, and writes nothing', async () => {
    const q = await freshQueue(dialect, { maxPayloadBytes: 1000 });
    const cyclic: any = { a: 1 };
    cyclic.self = cyclic;
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => q.enqueue('bad type!', {}), /item type "bad type!" is invalid/],
      [() => q.enqueue('x'.repeat(51), {}), /is invalid; use 1-50 characters/],
      [() => q.enqueue('t', { f: () => 1 }), /payload\.f is a function/],
      [() => q.enqueue('t', { n: 10n }), /payload\.n is a BigInt/],
      [() => q.enqueue('t', cyclic), /payload\.self refers back to itself/],
      [() => q.enqueue('t', undefined), /payload is undefined/],
      [() => q.enqueue('t', { at: new Date() }), /payload\.at is a Date/],
      [() => q.enqueue('t', { n: NaN }), /payload\.n is NaN/],
      [() => q.enqueue('t', { big: 'x'.repeat(2000) }), /over the limit of 1000/],
      [() => q.enqueue('t', {}, { priority: 1.5 }), /priority 1.5 is invalid/],
      [() => q.enqueue('t', {}, { maxTrials: 0 }), /maxTrials 0 is invalid/],
      [() => q.enqueue('t', {}, { delayMs: -5 }), /delay -5 is invalid/],
      [() => q.enqueue('t', {}, { key: '' }), /key "" is invalid/],
      [() => q.enqueueMany([{ type: 't', payload: 1 }, { type: 't', payload: { f: Symbol('s') } }]), /item 1: payload\.f is a symbol/],
    ];
    for (const [call, message] of cases) await expect(call()).rejects.toThrow(message);
    for (const [call] of cases) await expect(call()).rejects.toBeInstanceOf(UsageError);
    expect((await q.admin.stats()).total).toBe(0);
  });

  it('an item whose stored payload is not JSON (written by something else) goes to error, naming why', async () => {
    const q = await freshQueue(dialect);
    const seen: number[] = [];
    q.connect(ok('h', '*', seen));
    const { id } = await q.enqueue('t', {});
    await q.knex('signalq_items').where({ id }).update({ payload: '{broken' });
    expect(await q.process()).toMatchObject({ claimed: 1, error: 1 });
    expect(seen).toEqual([]);
    const item = await q.admin.get(id); // still readable, the payload as its raw text
    expect(item).toMatchObject({ status: 'error', payload: '{broken' });
    expect(item?.results.signalq.error).toMatch(/payload is not valid JSON/);
  });

  it('leaves items no handler takes pending, and stats says so', async () => {
    const q = await freshQueue(dialect);
    q.connect(ok('mailer', ['mail']));
    const orphan = await q.enqueue('fax', {});
    await q.enqueue('mail', {});
    expect(await q.process()).toMatchObject({ claimed: 1, done: 1 });
    expect((await q.admin.get(orphan.id))?.status).toBe('pending');
    const stats = await q.admin.stats();
    expect(stats.counts).toMatchObject({ pending: 1, done: 1 });
    expect(stats.oldestDueAt?.getTime()).toBe((await q.admin.get(orphan.id))?.runAt.getTime()); // the orphan waits
    expect(stats.types.find((t) => t.type === 'fax')).toMatchObject({ noHandler: true, handlers: [] });
  });

  it('refuses two handlers with the same name, and malformed handlers', async () => {
    const q = await freshQueue(dialect);
    q.connect(ok('same'));
    expect(() => q.connect(ok('same'))).toThrow(/already connected/);
    expect(() => q.connect({ name: 'x', types: [], handle() {} })).toThrow(/non-empty list/);
    expect(() => q.connect({ name: 'x', types: '*' } as any)).toThrow(/no handle/);
  });

  it('runs items in priority, then due-time order, and not before they are due', async () => {
    const q = await freshQueue(dialect);
    const seen: number[] = [];
    q.connect(ok('h', '*', seen));
    const late = await q.enqueue('t', { n: 'late' });
    const urgent = await q.enqueue('t', { n: 'urgent' }, { priority: -5 });
    const delayed = await q.enqueue('t', { n: 'delayed' }, { delayMs: 60_000 });
    await q.process({ limit: 10 });
    expect(seen).toEqual([urgent.id, late.id]);
    expect((await q.admin.get(delayed.id))?.status).toBe('pending');
  });

  it('the claim reads the index in order, with no sort', async () => {
    const q = await freshQueue(dialect);
    await q.enqueueMany(Array.from({ length: 200 }, (_, i) => ({ type: 't', payload: { i }, priority: i % 3 })));
    const { explainClaim } = await import('../helpers/explain-claim.ts');
    const plan = await explainClaim(q.knex, Date.now(), 500);
    expect(plan).toMatch(/signalq_items_claim/);
    expect(plan).not.toMatch(/filesort|TEMP B-TREE/i);
  });

  it('a claim by type takes each type in order from the type index, whatever waits of other types', async () => {
    const q = await freshQueue(dialect);
    const { claimItems } = await import('../../src/db/sql/claimItems.ts');
    const { hasRunnableItem } = await import('../../src/db/sql/hasRunnableItem.ts');
    const { explainClaim } = await import('../helpers/explain-claim.ts');
    // Older items of a type nobody here takes come first in claim order.
    await q.enqueueMany(Array.from({ length: 3000 }, (_, i) => ({ type: 'other', payload: { i } })));
    await q.enqueueMany(Array.from({ length: 60 }, (_, i) => ({ type: ['a', 'b', 'c'][i % 3], payload: { i }, priority: i % 4 })));
    for (const types of [['a'], ['a', 'b']]) {
      const plan = await explainClaim(q.knex, Date.now(), 500, types);
      const reads = plan.split('\n').filter((l) => /signalq_items(?!_)|signalq_items\b/.test(l) && !/derived|picked/i.test(l));
      expect(reads.length, plan).toBeGreaterThan(0);
      for (const line of reads) expect(line, plan).toMatch(/signalq_items_type/);
      // Each type is read in order; only the merge of the types' first rows may sort (a few rows, not the backlog).
      const sorts = plan.split('\n').filter((l) => /filesort|TEMP B-TREE/i.test(l)).length;
      if (types.length === 1) expect(sorts, plan).toBe(0);
      else expect(sorts, plan).toBeLessThanOrEqual(types.length);
    }
    const all = await q.admin.list({ limit: 100 });
    const expected = all.filter((i) => i.type === 'a' || i.type === 'b').sort((x, y) => x.priority - y.priority || x.runAt.getTime() - y.runAt.getTime() || x.id - y.id);
    const claim = (types: string[], limit: number) =>
      claimItems(q.knex, { token: `t-${types.join()}`, owner: 'test', now: q.clock.now(), leaseUntil: q.clock.now() + 60_000, limit, types });
    expect(await hasRunnableItem(q.knex, q.clock.now(), ['a', 'b'])).toBe(true);
    expect(await hasRunnableItem(q.knex, q.clock.now(), ['nobody'])).toBe(false);
    expect((await claim(['a', 'b'], 15)).map((r) => r.id)).toEqual(expected.slice(0, 15).map((i) => i.id));
    expect((await claim(['a', 'b'], 100)).map((r) => r.id)).toEqual(expected.slice(15).map((i) => i.id));
    expect(await hasRunnableItem(q.knex, q.clock.now(), ['a', 'b'])).toBe(false);
    expect((await claim(['c'], 100)).map((r) => r.type)).toEqual(Array(20).fill('c'));
    expect((await q.admin.stats()).counts.pending).toBe(3000);
  });


  it('two processors at once never take the same item', async () => {
    const q1 = await freshQueue(dialect, { batchSize: 50 });
    const q2 = await sameDatabase(q1, { batchSize: 50 });
    const seen = new Map<number, number>();
    const count = (item: { id: number }) => void seen.set(item.id, (seen.get(item.id) ?? 0) + 1);
    q1.connect({ name: 'h', types: '*', handle: count });
    q2.connect({ name: 'h', types: '*', handle: count });
    await q1.enqueueMany(Array.from({ length: 600 }, (_, i) => ({ type: 't', payload: { i } })));
    const drain = async (q: typeof q1) => { while ((await q.process()).claimed > 0); };
    await Promise.all([drain(q1), drain(q2)]);
    expect(seen.size).toBe(600);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect((await q1.admin.stats()).counts.done).toBe(600);
  });

  it('takes back items whose lease ran out, without rerunning handlers that succeeded', async () => {
    const q = await freshQueue(dialect, { leaseMs: 1000 });
    const { claimItems } = await import('../../src/db/sql/claimItems.ts');
    const { id } = await q.enqueue('t', {});
    // A processor that claimed the item, recorded one handler's success, and died before finishing.
    const now = q.clock.now();
    await claimItems(q.knex, { token: 'dead', owner: 'gone:1', now, leaseUntil: now + 1000, limit: 10, types: null });
    await q.knex('signalq_items').where({ id }).update({ results: JSON.stringify({ first: { ok: true, at: new Date().toISOString(), runs: 1 } }) });
    const first: number[] = [];
    const second: number[] = [];
    q.connect(ok('first', '*', first)).connect(ok('second', '*', second));
    expect((await q.process()).claimed).toBe(0); // still held
    await new Promise((r) => setTimeout(r, 1100));
    expect(await q.process()).toMatchObject({ claimed: 1, done: 1 });
    expect(first).toEqual([]);
    expect(second).toEqual([id]);
    expect(await q.admin.get(id)).toMatchObject({ status: 'done', trials: 2 });
  });

  it('renews the lease while a batch runs, so a slow handler keeps its item', async () => {
    const q = await freshQueue(dialect, { leaseMs: 1000 });
    const other = await sameDatabase(q, { leaseMs: 1000 });
    const runs: string[] = [];
    q.connect({ name: 'slow', types: '*', handle: () => new Promise<void>((r) => setTimeout(() => { runs.push('q'); r(); }, 2500)) });
    other.connect({ name: 'slow', types: '*', handle: () => void runs.push('other') });
    const { id } = await q.enqueue('t', {});
    const running = q.process();
    // For well past the lease, another processor sweeps expired leases and tries to claim: it must get nothing.
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 200));
      expect((await other.process()).claimed).toBe(0);
    }
    expect(await running).toMatchObject({ claimed: 1, done: 1 });
    expect(runs).toEqual(['q']);
    expect(await q.admin.get(id)).toMatchObject({ status: 'done', trials: 1 });
  });

  it('purges done items finished long enough ago, and nothing else', async () => {
    const q = await freshQueue(dialect);
    q.connect(ok('h', ['t']));
    const old = await q.enqueue('t', {});
    await q.process();
    await q.knex('signalq_items').where({ id: old.id }).update({ finished_at: Date.now() - 8 * 86_400_000 });
    const recent = await q.enqueue('t', {});
    await q.process();
    const waiting = await q.enqueue('other', {});
    expect(await q.admin.purgeDone(7 * 86_400_000)).toBe(1);
    expect(await q.admin.get(old.id)).toBeUndefined();
    expect((await q.admin.get(recent.id))?.status).toBe('done');
    expect((await q.admin.get(waiting.id))?.status).toBe('pending');
  });

  it('a processor that lost its claim writes nothing over the newer one, and says which items it lost', async () => {
    const q1 = await freshQueue(dialect);
    const q2 = await sameDatabase(q1);
    let release!: () => void;
    const stalled = new Promise<void>((r) => (release = r));
    q1.connect({ name: 'h', types: '*', handle: () => stalled });
    q2.connect({ name: 'h', types: '*', handle() {} });
    const a = await q1.enqueue('t', { n: 'a' });
    const b = await q1.enqueue('t', { n: 'b' });
    const lostEvents: number[] = [];
    q1.on('claimLost', (e) => void lostEvents.push(e.count));
    const running = q1.process();
    await expect.poll(async () => (await q1.admin.list({ status: 'in_progress' })).length).toBe(2);
    // A's lease runs out (as if q1 had stalled past it); q2 takes A back and finishes it.
    await q1.knex('signalq_items').where({ id: a.id }).update({ lease_until: 1 });
    expect(await q2.process()).toMatchObject({ claimed: 1, done: 1 });
    release();
    expect(await running).toMatchObject({ claimed: 2, done: 1, lost: 1 });
    expect(lostEvents).toEqual([1]);
    expect(await q1.admin.get(a.id)).toMatchObject({ status: 'done', trials: 2 }); // q2's outcome stands
    expect(await q1.admin.get(b.id)).toMatchObject({ status: 'done', trials: 1 });
  });

  it('on stop, hands back claimed items not yet started, with no trial counted', async () => {
    const q = await freshQueue(dialect, { concurrency: 1 });
    let started = 0;
    q.connect({ name: 'h', types: '*', handle: async () => { if (++started === 1) { q.stop(); await new Promise((r) => setTimeout(r, 50)); } } });
    await q.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ type: 't', payload: { i } })));
    const s = await q.process();
    expect(s).toMatchObject({ claimed: 5, done: 1, handedBack: 4 });
    const stats = await q.admin.stats();
    expect(stats.counts).toMatchObject({ done: 1, pending: 4, in_progress: 0 });
    const pending = await q.admin.list({ status: 'pending' });
    expect(pending.every((i) => i.trials === 0 && i.owner === null)).toBe(true);
  });

  it('lifecycle events carry the item as it now stands in the database', async () => {
    const q = await freshQueue(dialect);
    const seen: string[] = [];
    q.on('batchStart', (e) => void seen.push(`batchStart ${e.claimed}`));
    q.on('handlerFailed', (e) => void seen.push(`handlerFailed ${e.handler} ${e.error}`));
    const announced: Item[] = [];
    q.on('itemRetry', (e) => void (announced.push(e.item), seen.push(`itemRetry ${e.item.status} trials=${e.item.trials}`)));
    q.on('itemError', (e) => void seen.push(`itemError ${e.item.status} trials=${e.item.trials} finished=${e.item.finishedAt instanceof Date}`));
    q.on('itemDone', (e) => void seen.push(`itemDone ${e.item.status} trials=${e.item.trials} ok=${e.item.results.h.ok}`));
    q.on('batchEnd', (e) => void seen.push(`batchEnd done=${e.done} retry=${e.retry} error=${e.error} lost=${e.lost}`));
    let runs = 0;
    q.connect({ name: 'h', types: '*', handle: (item) => { if ((item.payload as any).fail && ++runs) throw new Error('nope'); } });
    const failing = await q.enqueue('t', { fail: true }, { maxTrials: 2 });
    await q.process();
    // The retry event's item is the row as written, field for field.
    expect(announced[0]).toEqual(await q.admin.get(failing.id));
    await q.process();
    await q.enqueue('t', { fail: false });
    await q.process();
    expect(seen).toEqual([
      'batchStart 1', 'handlerFailed h nope', 'itemRetry need_retry trials=1', 'batchEnd done=0 retry=1 error=0 lost=0',
      'batchStart 1', 'handlerFailed h nope', 'itemError error trials=2 finished=true', 'batchEnd done=0 retry=0 error=1 lost=0',
      'batchStart 1', 'itemDone done trials=1 ok=true', 'batchEnd done=1 retry=0 error=0 lost=0',
    ]);
    expect((await q.admin.get(failing.id))?.trials).toBe(2);
  });

  it('a listener that throws is reported and does not stop settling', async () => {
    const q = await freshQueue(dialect);
    const reported: string[] = [];
    q.on('itemDone', () => { throw new Error('listener bug'); });
    q.on('listenerError', (e) => void reported.push(`${e.event}: ${(e.error as Error).message}`));
    q.connect(ok('h'));
    const { id } = await q.enqueue('t', {});
    await q.process();
    expect((await q.admin.get(id))?.status).toBe('done');
    expect(reported).toEqual(['itemDone: listener bug']);
  });

  it('enqueueMany of large payloads splits its statements under the packet limit', async () => {
    const q = await freshQueue(dialect);
    const big = 'y'.repeat(400_000);
    const r = await q.enqueueMany(Array.from({ length: 60 }, (_, i) => ({ type: 't', payload: { i, big } }))); // 24 MB in all
    expect(r.inserted).toBe(60);
    expect(((await q.admin.list({ limit: 1 }))[0].payload as { big: string }).big).toHaveLength(400_000);
  });

  it('enqueueMany writes thousands in one call; work() processes them and stops gracefully', async () => {
    const q = await freshQueue(dialect);
    let n = 0;
    q.connect({ name: 'h', types: '*', handle: () => void n++ });
    const r = await q.enqueueMany(Array.from({ length: 3000 }, (_, i) => ({ type: 't', payload: { i } })));
    expect(r.inserted).toBe(3000);
    const done = new Promise<void>((resolve) => q.on('itemDone', () => { if (n >= 3000) resolve(); }));
    const working = q.work();
    await done;
    q.stop();
    const totals = await working;
    expect(totals.done).toBe(3000);
    expect((await q.admin.stats()).counts.done).toBe(3000);
  });

  it('a slow item holds one slot, not its batch: the worker keeps claiming and running the others', async () => {
    const q = await freshQueue(dialect, { batchSize: 5, concurrency: 3 });
    let fastDone = 0;
    let releaseSlow!: () => void;
    const slowMayFinish = new Promise<void>((r) => (releaseSlow = r));
    q.connect({ name: 'h', types: '*', handle: (item) => (item.type === 'slow' ? slowMayFinish : void fastDone++) });
    await q.enqueue('slow', {}, { priority: -1 }); // first in the first batch
    await q.enqueueMany(Array.from({ length: 30 }, (_, i) => ({ type: 'fast', payload: { i } })));
    const working = q.work();
    // Six batches' worth of fast items finish while the slow one is still running.
    await expect.poll(() => fastDone, { timeout: 20_000 }).toBe(30);
    await expect.poll(async () => (await q.admin.stats()).counts.done, { timeout: 20_000 }).toBe(30);
    releaseSlow();
    await expect.poll(async () => (await q.admin.stats()).counts.done, { timeout: 20_000 }).toBe(31);
    q.stop();
    await working;
  });

  it('an idle worker picks up an item enqueued in the same process at once', async () => {
    const q = await freshQueue(dialect, { pollIntervalMs: 60_000 });
    const started = new Promise<number>((resolve) => q.connect({ name: 'h', types: '*', handle: (item) => resolve(item.id) }));
    const working = q.work();
    await new Promise((r) => setTimeout(r, 100)); // let it go idle
    const { id } = await q.enqueue('t', {});
    expect(await started).toBe(id);
    q.stop();
    await working;
  });
});

describe('claim by type (MariaDB)', () => {
  it('an idle probe by type reads a handful of index entries, not the backlog of other types', async () => {
    const q = await freshQueue('mysql');
    const { hasRunnableItem } = await import('../../src/db/sql/hasRunnableItem.ts');
    await q.enqueueMany(Array.from({ length: 5000 }, (_, i) => ({ type: 'other', payload: { i } })));
    await q.enqueue('mine', {}, { delayMs: 60_000 });
    const read = await q.knex.transaction(async (trx) => {
      const handlerReads = async () => {
        const [rows] = await trx.raw("SHOW SESSION STATUS LIKE 'Handler_read%'");
        return (rows as { Value: string }[]).reduce((sum, r) => sum + Number(r.Value), 0);
      };
      const before = await handlerReads();
      expect(await hasRunnableItem(trx as any, q.clock.now(), ['mine', 'theirs'])).toBe(false);
      expect(await hasRunnableItem(trx as any, q.clock.now(), ['mine'])).toBe(false);
      return (await handlerReads()) - before;
    });
    expect(read).toBeLessThan(50); // (the SHOW itself reads a few)
  });
});
