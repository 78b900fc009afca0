/**
 * The JSON API under `/api`, which the page's script polls and which scripts may call with a bearer token. Every
 * read and action goes through `queue.admin`, `queue.crontab` or `queue.enqueue`; refusals are `{ "error": "…" }` with 400, 401, 403 or 404.
 *
 * - `GET /api/overview`: counts per status and type (types no live worker takes flagged), items finished per
 *   interval, and when the numbers were counted.
 * - `GET /api/items?status=&type=&invoker=&scope=&before=&limit=`: a page of items, newest first; `next` is the
 *   `before` of the next page (null on the last).
 * - `GET /api/items/:id`: one item, with the actions its status allows.
 * - `GET /api/items/:id/history?after=&limit=`: its history records in order; `next` is the `after` of the next page.
 * - `POST /api/items/:id/retry`, `POST /api/items/:id/delete`, `POST /api/items/:id/cancel`: act on one item;
 *   answer `{ item, message }` (cancel adds `outcome`: `canceled` or `requested`).
 * - `GET /api/jobs`: the running jobs with their progress (`running`), and the job types with their parameters.
 * - `POST /api/jobs` with JSON `{ "type": T, "payload": {…} }`: starts a job (checked against T's parameters);
 *   answers `{ id, type, message }`.
 * - `GET /api/crontab`: the global switch, whether the crontab is read-only here, every cron with its latest runs.
 * - `POST /api/crontab/:name/enable`, `POST /api/crontab/:name/disable`: answer `{ cron, message }`.
 * - `POST /api/crontab/on`, `POST /api/crontab/off`: the global switch; answer `{ enabled, message }`.
 * - `GET /api/workers`: registered workers, the items each holds, silent ones flagged.
 * - `GET /api/session`: the caller's role.
 */
import { Hono } from 'hono';
import type { DashboardEnv } from './server.ts';
import { parseHistoryQuery, parseId, parseItemsQuery } from './params.ts';
import { actionsFor, historyPage, itemOrNotFound, itemsPage, runningJobs, workersView } from './views.ts';
import { DASHBOARD_INVOKER, cancelItem, deleteItem, retryItem, startJob } from './actions.ts';
import { UsageError } from '../errors.ts';
import { crontabView, setCronActivated, setCrontabSwitch } from './crontab.ts';

export function apiRoutes(): Hono<DashboardEnv> {
  const api = new Hono<DashboardEnv>();

  api.get('/overview', async (c) => {
    const o = await c.get('deps').overview.get();
    return c.json({ ...o.stats, throughput: o.throughput, countedAt: o.countedAt, readMs: o.readMs, ageMs: Date.now() - o.countedAt.getTime() });
  });

  api.get('/items', async (c) => c.json(await itemsPage(c.get('deps').admin, parseItemsQuery(c.req.query()))));

  api.get('/items/:id', async (c) => {
    const item = await itemOrNotFound(c.get('deps').admin, parseId(c.req.param('id')));
    return c.json({ item, actions: actionsFor(item.status) });
  });

  api.post('/items/:id/retry', async (c) => c.json(await retryItem(c.get('deps').admin, parseId(c.req.param('id')))));
  api.post('/items/:id/delete', async (c) => c.json(await deleteItem(c.get('deps').admin, parseId(c.req.param('id')))));
  api.post('/items/:id/cancel', async (c) => c.json(await cancelItem(c.get('deps').admin, parseId(c.req.param('id')), DASHBOARD_INVOKER)));

  api.get('/items/:id/history', async (c) => {
    const id = parseId(c.req.param('id'));
    const q = parseHistoryQuery(c.req.query());
    await itemOrNotFound(c.get('deps').admin, id);
    return c.json(await historyPage(c.get('deps').admin, id, q));
  });

  api.get('/workers', async (c) => c.json(await workersView(c.get('deps').admin)));

  api.get('/session', (c) => c.json({ role: c.get('role') }));

  api.get('/jobs', async (c) => {
    const admin = c.get('deps').admin;
    return c.json({ running: await runningJobs(admin), types: await admin.types() });
  });

  api.post('/jobs', async (c) => {
    let body: any;
    try {
      body = await c.req.json();
    } catch {
      throw new UsageError('the body is not JSON; send { "type": "T", "payload": { … } } with Content-Type: application/json');
    }
    return c.json(await startJob(c.get('deps').queue, body?.type, body?.payload ?? {}));
  });

  api.get('/crontab', async (c) => c.json(await crontabView(c.get('deps').queue.crontab)));
  api.post('/crontab/:action{on|off}', async (c) => c.json(await setCrontabSwitch(c.get('deps').queue.crontab, c.req.param('action') === 'on')));
  api.post('/crontab/:name/:action{enable|disable}', async (c) =>
    c.json(await setCronActivated(c.get('deps').queue.crontab, c.req.param('name'), c.req.param('action') === 'enable')));

  return api;
}
