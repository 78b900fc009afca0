/**
 * The pages: server-rendered HTML over the same views as the JSON API. Actions are POST forms; their outcome is
 * kept in the session and shown once on the page they lead to (post, redirect, get: a reload does not repeat it).
 */
import { Hono, type Context } from 'hono';
import type { DashboardEnv } from '../server.ts';
import { UsageError } from '../../errors.ts';
import { HISTORY_PAGE, parseId, parseItemsQuery } from '../params.ts';
import { historyPage, itemOrNotFound, itemsPage as readItemsPage, runningJobs, workersView } from '../views.ts';
import { DASHBOARD_INVOKER, cancelItem, deleteItem, retryItem, startJobFromForm } from '../actions.ts';
import { jobsPage } from './jobs.ts';
import { crontabPage } from './crontab.ts';
import { crontabView, setCronActivated, setCrontabSwitch } from '../crontab.ts';
import { page, type Frame, type Html } from './layout.ts';
import { OVERVIEW_WAIT_MS, overviewPage } from './overview.ts';
import { itemsPage } from './items.ts';
import { itemPage } from './item.ts';
import { workersPage } from './workers.ts';

type C = Context<DashboardEnv>;

/** The frame of a page for this request; takes the session's pending outcome (shown once). */
function frame(c: C, title: string, nav: Frame['nav']): Frame {
  const session = c.get('session');
  const flash = session?.flash;
  if (session) session.flash = undefined;
  return { title, nav, role: c.get('role'), csrf: session?.csrf, loggedIn: c.get('deps').tokens, flash };
}

function render(c: C, f: Frame, body: Html) {
  return c.html(page(f, body));
}

/** Runs an action of a form, keeps its outcome (or refusal) for the next page, and redirects there. */
async function act(c: C, run: () => Promise<{ message: string }>, next: (ok: boolean) => string) {
  const session = c.get('session');
  try {
    const outcome = await run();
    if (session) session.flash = { ok: true, message: outcome.message };
    return c.redirect(next(true), 303);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (session) session.flash = { ok: false, message: err.message };
    return c.redirect(next(false), 303);
  }
}

export function pageRoutes(): Hono<DashboardEnv> {
  const pages = new Hono<DashboardEnv>();

  pages.get('/', async (c) => render(c, frame(c, 'Overview', 'overview'), overviewPage(await c.get('deps').overview.getWithin(OVERVIEW_WAIT_MS))));

  pages.get('/items', async (c) => {
    const q = parseItemsQuery(c.req.query());
    return render(c, frame(c, 'Items', 'items'), itemsPage(q, await readItemsPage(c.get('deps').admin, q)));
  });

  pages.get('/items/:id', async (c) => {
    const admin = c.get('deps').admin;
    const item = await itemOrNotFound(admin, parseId(c.req.param('id')));
    const history = await historyPage(admin, item.id, { limit: HISTORY_PAGE });
    const f = frame(c, `Item ${item.id}`, 'items');
    return render(c, f, itemPage(item, { records: history.records, more: history.next !== null }, f.role, f.csrf));
  });

  pages.post('/items/:id/cancel', async (c) => {
    const id = parseId(c.req.param('id'));
    return act(c, () => cancelItem(c.get('deps').admin, id, DASHBOARD_INVOKER), () => `/items/${id}`);
  });

  pages.post('/items/:id/retry', async (c) => {
    const id = parseId(c.req.param('id'));
    return act(c, () => retryItem(c.get('deps').admin, id), () => `/items/${id}`);
  });

  pages.post('/items/:id/delete', async (c) => {
    const id = parseId(c.req.param('id'));
    return act(c, () => deleteItem(c.get('deps').admin, id), (ok) => (ok ? '/items' : `/items/${id}`));
  });

  pages.get('/workers', async (c) => render(c, frame(c, 'Workers', 'workers'), workersPage(await workersView(c.get('deps').admin))));

  pages.get('/jobs', async (c) => {
    const admin = c.get('deps').admin;
    const f = frame(c, 'Jobs', 'jobs');
    return render(c, f, jobsPage(await runningJobs(admin), await admin.types(), f.role, f.csrf));
  });

  // A started job leads to its item's page; a refused one shows the form again, with its values and the message.
  pages.post('/jobs', async (c) => {
    const form = await c.req.parseBody();
    try {
      const started = await startJobFromForm(c.get('deps').queue, form);
      const session = c.get('session');
      if (session) session.flash = { ok: true, message: started.message };
      return c.redirect(`/items/${started.id}`, 303);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      const admin = c.get('deps').admin;
      const f = { ...frame(c, 'Jobs', 'jobs'), flash: { ok: false, message: err.message } };
      const refill = { type: typeof form.type === 'string' ? form.type : '', form };
      return c.html(page(f, jobsPage(await runningJobs(admin), await admin.types(), f.role, f.csrf, refill)), 400);
    }
  });

  pages.get('/crontab', async (c) => {
    const f = frame(c, 'Crontab', 'crontab');
    return render(c, f, crontabPage(await crontabView(c.get('deps').queue.crontab), f.role, f.csrf));
  });
  pages.post('/crontab/:action{on|off}', async (c) => act(c, () => setCrontabSwitch(c.get('deps').queue.crontab, c.req.param('action') === 'on'), () => '/crontab'));
  pages.post('/crontab/:name/:action{enable|disable}', async (c) =>
    act(c, () => setCronActivated(c.get('deps').queue.crontab, c.req.param('name'), c.req.param('action') === 'enable'), () => '/crontab'));

  return pages;
}
