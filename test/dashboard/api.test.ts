/**
 * The dashboard's JSON API against a real server on a free port, on SQLite and MySQL/MariaDB: the overview's
 * counts and chart, keyset paging and filters, one item and its actions, the workers and what they hold, and
 * bad ids and parameters answered with 400/404 and one line.
 */
import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../src/errors.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue, sameDatabase } from '../helpers/queue.ts';
import { dashboardOf, until } from './helpers.ts';

const TOKEN = 'admin-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const getJson = async (url: string) => {
  const res = await fetch(url, { headers: auth });
  return { status: res.status, body: (await res.json()) as any };
};
const post = async (url: string) => {
  const res = await fetch(url, { method: 'POST', headers: auth });
  return { status: res.status, body: (await res.json()) as any };
};

describe.each(DIALECTS)('dashboard API on %s', (dialect) => {
  it('counts items per status and type, flags a type no live worker takes, and charts finished items', async () => {
    const q = await freshQueue(dialect);
    q.connect({ name: 'mailer', types: ['mail', 'bad'], handle: (item) => { if (item.type === 'bad') throw new PermanentError('no'); } });
    await q.enqueue('mail', { n: 1 });
    await q.enqueue('mail', { n: 2 });
    await q.enqueue('bad', {});
    await q.enqueue('orphan', {});
    await q.process();
    const working = q.work(); // registers the worker and its handlers
    const d = await dashboardOf(await sameDatabase(q), { token: TOKEN });
    const { body } = await until(() => getJson(`${d.base}/api/overview`), (r) => r.body.types?.some((t: any) => t.type === 'mail' && !t.noHandler));
    expect(body.counts).toEqual({ pending: 1, in_progress: 0, need_retry: 0, done: 2, error: 1, canceled: 0 });
    expect(body.total).toBe(4);
    expect(body.types).toEqual([
      { type: 'bad', counts: { error: 1 }, handlers: ['mailer'], noHandler: false },
      { type: 'mail', counts: { done: 2 }, handlers: ['mailer'], noHandler: false },
      { type: 'orphan', counts: { pending: 1 }, handlers: [], noHandler: true },
    ]);
    const intervals = body.throughput.intervals as { done: number; error: number }[];
    expect(intervals).toHaveLength(30);
    expect(intervals.reduce((a, i) => a + i.done, 0)).toBe(2);
    expect(intervals.reduce((a, i) => a + i.error, 0)).toBe(1);
    q.stop();
    await working;
  });

  it('pages items newest first by keyset, filtered by status and type', async () => {
    const q = await freshQueue(dialect);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await q.enqueue(i % 2 ? 'odd' : 'even', { i })).id);
    const d = await dashboardOf(q, { token: TOKEN });
    const first = await getJson(`${d.base}/api/items?limit=2`);
    expect(first.body.items.map((i: any) => i.id)).toEqual([ids[4], ids[3]]);
    expect(first.body.next).toBe(ids[3]);
    const second = await getJson(`${d.base}/api/items?limit=2&before=${first.body.next}`);
    expect(second.body.items.map((i: any) => i.id)).toEqual([ids[2], ids[1]]);
    const last = await getJson(`${d.base}/api/items?limit=2&before=${second.body.next}`);
    expect(last.body).toMatchObject({ items: [{ id: ids[0], type: 'even', status: 'pending' }], next: null });
    expect((await getJson(`${d.base}/api/items?type=odd`)).body.items.map((i: any) => i.id)).toEqual([ids[3], ids[1]]);
    expect((await getJson(`${d.base}/api/items?status=done`)).body).toEqual({ items: [], next: null });
    expect(last.body.items[0]).not.toHaveProperty('payload');
  });

  it('refuses bad parameters and ids with 400 and one line, and a missing item with 404', async () => {
    const q = await freshQueue(dialect);
    const d = await dashboardOf(q, { token: TOKEN });
    const cases: [string, number, string][] = [
      ['/api/items?status=finished', 400, 'status "finished" is not one of pending, in_progress, need_retry, done, error, canceled'],
      ['/api/items?limit=0', 400, 'limit "0" is invalid; use a whole number from 1 to 500'],
      ['/api/items?limit=abc', 400, 'limit "abc" is invalid; use a whole number from 1 to 500'],
      ['/api/items?before=-3', 400, 'before "-3" is invalid; use a whole number of at least 1'],
      ['/api/items?type=%3Cscript%3E', 400, 'type "<script>" is invalid; use 1-50 characters of letters, digits, _ . : -'],
      ['/api/items/abc', 400, 'item id "abc" is invalid; use a whole number of at least 1'],
      ['/api/items/0', 400, 'item id "0" is invalid; use a whole number of at least 1'],
      ['/api/items/99999999999999999999', 400, 'item id "99999999999999999999" is invalid; use a whole number of at least 1'],
      ['/api/items/42', 404, 'no item with id 42'],
      ['/api/nothing', 404, 'no page at /api/nothing'],
    ];
    for (const [path, status, error] of cases) {
      expect(await getJson(d.base + path), path).toEqual({ status, body: { error } });
    }
    expect(await post(`${d.base}/api/items/42/retry`)).toEqual({ status: 404, body: { error: 'no item with id 42' } });
    const page = await fetch(`${d.base}/items/abc`, { headers: auth });
    expect(page.status).toBe(400);
    const text = await page.text();
    expect(text).toContain('item id &quot;abc&quot; is invalid');
    expect(text).not.toMatch(/\n\s+at /);
  });

  it('retries an error item, refuses to retry others or delete a running one, and deletes a finished one', async () => {
    const q = await freshQueue(dialect, { owner: 'worker-host:4242' });
    let release!: () => void;
    const started = new Promise<void>((resolve) => {
      q.connect({
        name: 'h',
        types: '*',
        handle: (item) => {
          if (item.type === 'bad') throw new PermanentError('card declined');
          if (item.type === 'slow') { resolve(); return new Promise<void>((r) => (release = r)); }
        },
      });
    });
    const bad = await q.enqueue('bad', {});
    await q.process();
    const d = await dashboardOf(await sameDatabase(q), { token: TOKEN });
    const shown = await getJson(`${d.base}/api/items/${bad.id}`);
    expect(shown.body).toMatchObject({ item: { id: bad.id, status: 'error', results: { h: { ok: false, error: 'card declined' } } }, actions: { retry: true, delete: true } });

    const retried = await post(`${d.base}/api/items/${bad.id}/retry`);
    expect(retried).toMatchObject({ status: 200, body: { item: { id: bad.id, status: 'pending' }, message: `item ${bad.id} is back to pending; only its failed handlers run again` } });
    expect(await post(`${d.base}/api/items/${bad.id}/retry`)).toEqual({ status: 400, body: { error: `item ${bad.id} is pending, not error; only items in error can be retried` } });

    const slow = await q.enqueue('slow', {});
    await q.admin.delete(bad.id);
    const batch = q.process();
    await started;
    const refused = await post(`${d.base}/api/items/${slow.id}/delete`);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(new RegExp(`^item ${slow.id} is in_progress, held by worker-host:4242 with a lease until `));

    const workers = await getJson(`${d.base}/api/workers`);
    expect(workers.body.otherHolders).toEqual([{ owner: 'worker-host:4242', count: 1, firstId: slow.id }]);

    release();
    await batch;
    expect(await post(`${d.base}/api/items/${slow.id}/delete`)).toMatchObject({ status: 200, body: { item: { id: slow.id, status: 'done' } } });
    expect((await getJson(`${d.base}/api/items/${slow.id}`)).status).toBe(404);
  });

  it('lists live workers with their handlers and the items they hold', async () => {
    const q = await freshQueue(dialect);
    let release!: () => void;
    const started = new Promise<void>((resolve) => {
      q.connect({ name: 'slow', types: ['t'], handle: () => { resolve(); return new Promise<void>((r) => (release = r)); } });
    });
    const { id } = await q.enqueue('t', {});
    const working = q.work();
    await started;
    const d = await dashboardOf(await sameDatabase(q), { token: TOKEN });
    const { body } = await getJson(`${d.base}/api/workers`);
    expect(body.workers).toHaveLength(1);
    expect(body.workers[0]).toMatchObject({ pid: process.pid, handlers: ['slow'], takes: { slow: ['t'] }, alive: true, silent: false, held: 1, firstHeldId: id });
    expect(body.otherHolders).toEqual([]);
    release();
    q.stop();
    await working;
  });
});
