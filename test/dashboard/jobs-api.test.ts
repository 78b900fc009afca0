/**
 * The dashboard's job endpoints against a real server, on SQLite and MySQL/MariaDB: cancel of a queued and a
 * running job (and refusals: finished, missing, read-only, cross-site, no CSRF token), history records paged and
 * shown as text, the item page's job facts, the items filtered by invoker and scope, and jobs started from the
 * form and the API (a bad parameter refused with the CLI's message, nothing written).
 */
import { describe, expect, it } from 'vitest';
import { Type, defineJob } from '../../src/index.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue, sameDatabase } from '../helpers/queue.ts';
import { dashboardOf, login, postForm, until } from './helpers.ts';

const TOKEN = 'admin-token-0123456789abcdef';
const READONLY = 'readonly-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const getJson = async (url: string, headers: Record<string, string> = auth) => {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as any };
};
const post = async (url: string, headers: Record<string, string> = auth) => {
  const res = await fetch(url, { method: 'POST', headers });
  return { status: res.status, body: (await res.json()) as any };
};

describe.each(DIALECTS)('dashboard job endpoints on %s', (dialect) => {
  it('cancels a queued job at once and a running one through its worker, and refuses a finished or missing one', async () => {
    const worker = await freshQueue(dialect, { pollIntervalMs: 50, progressFlushMs: 50 });
    let running!: () => void;
    const started = new Promise<void>((r) => (running = r));
    worker.connect({
      name: 'waiter',
      types: ['wait'],
      handle: async (_item, ctx) => {
        ctx.progress(1, 4, 'first of four');
        running();
        await new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      },
    });
    const d = await dashboardOf(await sameDatabase(worker), { token: TOKEN });
    const queued = await worker.enqueue('later', {}, { invoker: 'ada' });
    const shown = await getJson(`${d.base}/api/items/${queued.id}`);
    expect(shown.body.actions).toEqual({ retry: false, delete: false, cancel: true });
    expect(await post(`${d.base}/api/items/${queued.id}/cancel`)).toMatchObject({
      status: 200, body: { outcome: 'canceled', item: { id: queued.id, status: 'canceled' }, message: `item ${queued.id} is canceled; it never runs` },
    });
    expect(await post(`${d.base}/api/items/${queued.id}/cancel`)).toEqual({
      status: 400, body: { error: `item ${queued.id} is canceled, finished; only a queued or running item can be canceled` },
    });
    expect(await post(`${d.base}/api/items/999999/cancel`)).toEqual({ status: 404, body: { error: 'no item with id 999999' } });

    const job = await worker.enqueue('wait', {});
    const working = worker.work();
    await started;
    const asked = await post(`${d.base}/api/items/${job.id}/cancel`);
    expect(asked).toMatchObject({ status: 200, body: { outcome: 'requested', item: { id: job.id, status: 'in_progress', cancelRequested: true } } });
    expect(asked.body.message).toBe(`cancel requested for item ${job.id}: its worker stops it within two seconds and it ends canceled`);
    const ended = await until(() => getJson(`${d.base}/api/items/${job.id}`), (r) => r.body.item.status !== 'in_progress');
    expect(ended.body.item.status).toBe('canceled');
    const history = await getJson(`${d.base}/api/items/${job.id}/history`);
    expect(history.body.records.map((r: any) => [r.handler, r.status, r.comment])).toContainEqual(
      ['signalq', 'cancel-requested', expect.stringMatching(/^cancel requested by dashboard while it ran on /)],
    );
    worker.stop();
    await working;
  });

  it('pages history records, shows subjects and comments holding <script> as text, and the job facts on its page', async () => {
    const q = await freshQueue(dialect, { progressFlushMs: 50 });
    q.connect({
      name: 'importer',
      types: ['import'],
      handle: (_item, ctx) => {
        for (let i = 1; i <= 5; i++) ctx.history({ subject: `<script>window.__s${i}=1</script>`, status: 'rejected', comment: `row ${i} <img src=x onerror=alert(${i})>` });
        ctx.progress(5, 5, 'all rows');
        ctx.summary('5 rows, <b>5 rejected</b>');
        return { imported: 0 };
      },
    });
    const { id } = await q.enqueue('import', {}, { invoker: 'ada <admin>', scope: 'acme' });
    await q.process();
    const d = await dashboardOf(q, { token: TOKEN });
    const first = await getJson(`${d.base}/api/items/${id}/history?limit=2`);
    expect(first.body.records.map((r: any) => r.subject)).toEqual(['<script>window.__s1=1</script>', '<script>window.__s2=1</script>']);
    const rest = await getJson(`${d.base}/api/items/${id}/history?after=${first.body.next}&limit=10`);
    expect(rest.body.records.map((r: any) => r.comment)).toEqual([3, 4, 5].map((i) => `row ${i} <img src=x onerror=alert(${i})>`));
    expect(rest.body.next).toBeNull();
    expect(await getJson(`${d.base}/api/items/${id}/history?limit=0`)).toEqual({ status: 400, body: { error: 'limit "0" is invalid; use a whole number from 1 to 10000' } });
    expect(await getJson(`${d.base}/api/items/424242/history`)).toEqual({ status: 404, body: { error: 'no item with id 424242' } });

    const page = await (await fetch(`${d.base}/items/${id}`, { headers: auth })).text();
    expect(page).not.toMatch(/<script>window|<img |<b>5/);
    expect(page).toContain('&lt;script&gt;window.__s1=1&lt;/script&gt;');
    expect(page).toContain('row 1 &lt;img src=x onerror=alert(1)&gt;');
    expect(page).toContain('5 rows, &lt;b&gt;5 rejected&lt;/b&gt;');
    expect(page).toContain('ada &lt;admin&gt;');
    expect(page).toMatch(/<progress max="100" value="100"/);
    expect(page).toContain('5 of 5 (100%): all rows');
    expect(page).toContain('&quot;imported&quot;: 0'); // the result, now that the job is done
    expect(page).not.toContain(`action="/items/${id}/cancel"`);
  });

  it('lists items by invoker and scope, and refuses an overlong one', async () => {
    const q = await freshQueue(dialect);
    const a = await q.enqueue('t', {}, { invoker: 'ada', scope: 'acme' });
    const b = await q.enqueue('t', {}, { invoker: 'bob', scope: 'acme' });
    await q.enqueue('t', {}, { invoker: 'ada', scope: 'other' });
    const d = await dashboardOf(q, { token: TOKEN });
    const ids = async (query: string) => (await getJson(`${d.base}/api/items?${query}`)).body.items.map((i: any) => i.id);
    expect(await ids('scope=acme')).toEqual([b.id, a.id]);
    expect(await ids('invoker=ada&scope=acme')).toEqual([a.id]);
    expect(await ids('invoker=nobody')).toEqual([]);
    expect((await getJson(`${d.base}/api/items?invoker=ada`)).body.items[0]).toMatchObject({ invoker: 'ada', scope: 'other' });
    expect((await getJson(`${d.base}/api/items?invoker=${'x'.repeat(192)}`)).status).toBe(400);
    const page = await (await fetch(`${d.base}/items?invoker=bob`, { headers: auth })).text();
    expect(page).toContain(`href="/items/${b.id}"`);
    expect(page).not.toContain(`href="/items/${a.id}"`);
    expect(page).toContain('value="bob"');
  });

  it('refuses a cancel from a read-only token, a cross-site form or one without the CSRF token, and takes the page own form', async () => {
    const q = await freshQueue(dialect);
    const { id } = await q.enqueue('later', {});
    const d = await dashboardOf(q, { token: TOKEN, readonlyToken: READONLY });
    expect(await post(`${d.base}/api/items/${id}/cancel`, { authorization: `Bearer ${READONLY}` })).toEqual({ status: 403, body: { error: 'this token is read-only: it can look but not act' } });
    const ro = await login(d.base, READONLY);
    expect(await (await fetch(`${d.base}/items/${id}`, { headers: { cookie: ro.cookie } })).text()).not.toContain(`action="/items/${id}/cancel"`);
    expect((await postForm(d.base, `/items/${id}/cancel`, ro)).status).toBe(403);
    const s = await login(d.base, TOKEN);
    expect((await postForm(d.base, `/items/${id}/cancel`, s, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await postForm(d.base, `/items/${id}/cancel`, s, { csrf: null })).status).toBe(403);
    expect((await q.admin.get(id))?.status).toBe('pending');
    const ok = await postForm(d.base, `/items/${id}/cancel`, s);
    expect([ok.status, ok.headers.get('location')]).toEqual([303, `/items/${id}`]);
    expect((await q.admin.get(id))?.status).toBe('canceled');
    const after = await (await fetch(`${d.base}/items/${id}`, { headers: { cookie: s.cookie } })).text();
    expect(after).toContain(`item ${id} is canceled; it never runs`);
  });

  it('starts a job from the form and the API as the dashboard, refusing a bad parameter with the CLI message and writing nothing', async () => {
    const q = await freshQueue(dialect);
    q.connect(defineJob({
      name: 'counter',
      type: 'count',
      help: 'Counts to n',
      params: Type.Object({ n: Type.Integer({ minimum: 1, description: 'how far' }), mode: Type.Union([Type.Literal('up'), Type.Literal('down')], { default: 'up' }) }),
      handle: () => {},
    }));
    q.connect(defineJob({
      name: 'marked',
      type: 'markup',
      help: '<script>window.__help=1</script>',
      params: Type.Object({ '<i>': Type.String({ default: '"><script>x</script>', description: '<img src=x onerror=alert(1)>' }) }),
      handle: () => {},
    }));
    const d = await dashboardOf(q, { token: TOKEN, readonlyToken: READONLY });
    const s = await login(d.base, TOKEN);
    const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => fetch(`${d.base}/jobs`, {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: s.cookie, origin: d.base, ...headers },
      body: new URLSearchParams({ _csrf: s.csrf, type: 'count', ...fields }),
    });
    const page = await (await fetch(`${d.base}/jobs`, { headers: { cookie: s.cookie } })).text();
    expect(page).toMatch(/<input type="number" step="any" id="f-count-n" name="param.n" value="" required>/);
    expect(page).toContain('<option selected>up</option><option>down</option>');
    // Declarations are the workers' text: help, names, defaults and descriptions are escaped.
    expect(page).not.toMatch(/<script>|<img |<i>/);
    expect(page).toContain('&lt;script&gt;window.__help=1&lt;/script&gt;');
    expect(page).toContain('value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');

    const refused = await form({ 'param.n': '0', 'param.mode': 'sideways' });
    expect(refused.status).toBe(400);
    const text = await refused.text();
    expect(text).toContain('payload of count is invalid: n must be &gt;= 1 (got 0); mode must be one of &quot;up&quot;, &quot;down&quot; (got &quot;sideways&quot;); nothing was enqueued');
    expect(text).toContain('name="param.n" value="0"'); // the values entered, shown again
    expect((await q.admin.stats()).total).toBe(0);

    const ok = await form({ 'param.n': '3' });
    expect(ok.status).toBe(303);
    const id = Number(/^\/items\/(\d+)$/.exec(ok.headers.get('location') ?? '')?.[1]);
    expect(await q.admin.get(id)).toMatchObject({ type: 'count', payload: { n: 3, mode: 'up' }, invoker: 'dashboard' });
    expect(await (await fetch(`${d.base}/items/${id}`, { headers: { cookie: s.cookie } })).text()).toContain(`job ${id} (count) started`);

    const api = (body: unknown, token = TOKEN) => fetch(`${d.base}/api/jobs`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bad = await api({ type: 'count', payload: { n: 'x' } });
    expect([bad.status, await bad.json()]).toEqual([400, { error: 'payload of count is invalid: n must be integer (got "x"); nothing was enqueued (signalq types shows its parameters)' }]);
    const good = await api({ type: 'count', payload: { n: 2 } });
    const started = (await good.json()) as any;
    expect(started).toMatchObject({ type: 'count', message: `job ${started.id} (count) started` });
    expect((await api({ type: 'count', payload: { n: 2 } }, READONLY)).status).toBe(403);
    const ro = await login(d.base, READONLY);
    const roPage = await (await fetch(`${d.base}/jobs`, { headers: { cookie: ro.cookie } })).text();
    expect(roPage).toContain('read-only: this token cannot start jobs');
    expect(roPage).not.toContain('action="/jobs"');
    expect((await postForm(d.base, '/jobs', ro)).status).toBe(403);
    expect((await form({ 'param.n': '3' }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await fetch(`${d.base}/jobs`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: s.cookie, origin: d.base }, body: 'type=count&param.n=3' })).status).toBe(403);
    const unknown = await form({ type: 'nope' });
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('no job type &quot;nope&quot; is taken by a live worker');
    expect((await q.admin.stats()).total).toBe(2);
    const listed = await getJson(`${d.base}/api/jobs`);
    expect(listed.body.types).toMatchObject([{ type: 'count', help: 'Counts to n', handlers: ['counter'] }, { type: 'markup' }]);
    expect(listed.body.running).toEqual([]);
  });
});
