/**
 * Jobs and the crontab in headless Chromium, on SQLite and MySQL/MariaDB: a job started from its form (a bad
 * parameter refused with its message first), its progress bar moving in place as a worker in the test reports each
 * step (the test releases the steps: nothing here waits on time), a running job canceled and seen canceled, and a
 * cron disabled. Screenshots under test-output/dashboard/.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { Type, defineJob } from '../../src/index.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue } from '../helpers/queue.ts';
import { dashboardOf, until } from './helpers.ts';
import { newPage, shot, useBrowser } from './browser.ts';

useBrowser();

/**
 * A counting job that reports step i of n, then waits until the test has released i steps (or for its cancel).
 */
function steppedJob() {
  let released = 0;
  let wake: (() => void) | null = null;
  let reported = 0;
  const job = defineJob({
    name: 'counter',
    type: 'count',
    help: 'Counts to n, one step per release',
    params: Type.Object({
      n: Type.Integer({ minimum: 1, description: 'how far to count' }),
      mode: Type.Union([Type.Literal('up'), Type.Literal('down')], { default: 'up' }),
      loud: Type.Boolean({ default: false, description: 'a flag this job ignores (a checkbox on the form)' }),
    }),
    async handle(item, ctx) {
      for (let i = 1; i <= item.payload.n; i++) {
        ctx.progress(i, item.payload.n, `step ${i}`);
        ctx.history({ subject: `step-${i}`, status: 'counted', comment: `reached ${i}` });
        reported = i;
        while (released < i) {
          await new Promise<void>((resolve, reject) => {
            wake = resolve;
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
          });
        }
      }
      ctx.summary(`counted to ${item.payload.n}`);
      return { counted: item.payload.n };
    },
  });
  return {
    job,
    /** Lets the job go one step further (releases given before it gets there are kept). */
    release: () => {
      released++;
      wake?.();
    },
    reported: () => reported,
  };
}

/** The value of item `id`'s progress bar on the page (null: no bar shown, or no value). */
const barValue = (page: Page, id: number) =>
  page.evaluate((id) => {
    const box = document.querySelector(`[data-progress-of="${id}"]`) as HTMLElement | null;
    return box && !box.hidden ? (box.querySelector('progress') as HTMLProgressElement).value : null;
  }, id);

describe.each(DIALECTS)('jobs in a browser on %s', (dialect) => {
  it('starts a job from its form (a bad parameter first), then watches its progress bar move in place', async () => {
    const q = await freshQueue(dialect, { pollIntervalMs: 50, progressFlushMs: 50 });
    const stepped = steppedJob();
    q.connect(stepped.job);
    const d = await dashboardOf(q);
    const page = await newPage();

    await page.goto(d.base + '/jobs');
    const form = page.locator('form#start-count');
    expect(await form.locator('label[for="f-count-n"] .required').count()).toBe(1);
    expect(await form.locator('select[name="param.mode"]').inputValue()).toBe('up');
    expect(await form.locator('input[name="param.loud"][type=checkbox]').isChecked()).toBe(false);
    await form.locator('input[name="param.n"]').fill('0');
    await form.locator('button[type=submit]').click();
    await page.locator('#outcome', { hasText: 'payload of count is invalid: n must be >= 1 (got 0)' }).waitFor();
    expect(await page.locator('form#start-count input[name="param.n"]').inputValue()).toBe('0');
    expect((await q.admin.stats()).total).toBe(0);
    await shot(page, `${dialect}-job-form-refused`);

    await page.locator('form#start-count input[name="param.n"]').fill('4');
    await page.locator('form#start-count button[type=submit]').click();
    await page.waitForURL(/\/items\/\d+$/);
    const id = Number(/\/items\/(\d+)$/.exec(page.url())![1]);
    await page.locator('#outcome', { hasText: `job ${id} (count) started` }).waitFor();
    expect(await q.admin.get(id)).toMatchObject({ payload: { n: 4, mode: 'up', loud: false }, invoker: 'dashboard' });

    // The worker starts now: the page reloads once as the item goes in_progress, then only its bar moves.
    const working = q.work();
    await page.locator('h1 .status', { hasText: 'in_progress' }).waitFor();
    await page.waitForFunction((id) => (document.querySelector(`[data-progress-of="${id}"] progress`) as HTMLProgressElement | null)?.value === 25, id);
    await page.evaluate(() => ((window as any).__loaded = true));
    await shot(page, `${dialect}-job-progress-25`);
    stepped.release();
    await page.waitForFunction((id) => (document.querySelector(`[data-progress-of="${id}"] progress`) as HTMLProgressElement | null)?.value === 50, id);
    expect(await page.locator(`[data-progress-of="${id}"] .progress-text`).innerText()).toBe('2 of 4 (50%): step 2');
    await page.locator('table.history tbody tr', { hasText: 'step-2' }).waitFor(); // appended as it is written
    expect(await page.evaluate(() => (window as any).__loaded)).toBe(true); // moved in place, not reloaded
    await shot(page, `${dialect}-job-progress-50`);

    // The jobs page lists it running, its bar moving too.
    await page.click('nav >> text=Jobs');
    await page.locator(`#running-body tr[data-job="${id}"]`).waitFor();
    expect(await barValue(page, id)).toBe(50);
    stepped.release();
    await page.waitForFunction((id) => (document.querySelector(`[data-progress-of="${id}"] progress`) as HTMLProgressElement | null)?.value === 75, id);
    await shot(page, `${dialect}-jobs-running`);

    // It finishes: the jobs page drops it; its page shows the summary, the result and the history.
    stepped.release();
    stepped.release();
    await page.locator('#running-empty:not([hidden])').waitFor();
    await page.goto(`${d.base}/items/${id}`);
    await page.locator('h1 .status', { hasText: 'done' }).waitFor();
    expect(await page.locator('#summary').innerText()).toBe('counted to 4');
    expect(await page.locator('table.results pre.value').innerText()).toContain('"counted": 4');
    expect(await page.locator('table.history tbody tr').count()).toBe(4);
    await shot(page, `${dialect}-job-done`);
    await page.context().close();
    q.stop();
    await working;
  });

  it('cancels a running job and sees it canceled', async () => {
    const q = await freshQueue(dialect, { pollIntervalMs: 50, progressFlushMs: 50 });
    const stepped = steppedJob();
    q.connect(stepped.job);
    const { id } = await q.enqueue('count', { n: 10 });
    const working = q.work();
    await until(async () => stepped.reported(), (n) => n >= 1);
    const d = await dashboardOf(q);
    const page = await newPage();
    await page.goto(`${d.base}/items/${id}`);
    await page.locator('h1 .status', { hasText: 'in_progress' }).waitFor();
    await page.click('button:has-text("Cancel")');
    await page.locator('#outcome', { hasText: `cancel requested for item ${id}` }).waitFor();
    await shot(page, `${dialect}-job-cancel-requested`);
    // Its worker ends it within two seconds; the page follows the status change.
    await page.locator('h1 .status', { hasText: 'canceled' }).waitFor();
    expect(await page.locator('table.history').innerText()).toMatch(/cancel requested by dashboard/);
    expect(await page.locator('button:has-text("Cancel")').count()).toBe(0);
    expect((await q.admin.get(id))!.status).toBe('canceled');
    await shot(page, `${dialect}-job-canceled`);
    await page.context().close();
    q.stop();
    await working;
  });

  it('disables a cron from the crontab page', async () => {
    const q = await freshQueue(dialect);
    await q.crontab.add({ name: 'nightly-report', expression: '0 3 * * *', timezone: 'Europe/Paris', type: 'report' });
    await q.crontab.add({ name: 'every-minute', expression: '* * * * *', type: 'beat' });
    const d = await dashboardOf(q);
    const page = await newPage();
    await page.goto(d.base + '/crontab');
    const row = page.locator('tr[data-cron="nightly-report"]');
    expect(await row.locator('.cron-state').innerText()).toBe('enabled');
    await shot(page, `${dialect}-crontab`);
    await row.locator('button:has-text("Disable")').click();
    await page.locator('#outcome', { hasText: 'cron nightly-report is disabled' }).waitFor();
    expect(await page.locator('tr[data-cron="nightly-report"] .cron-state').innerText()).toBe('disabled');
    expect(await page.locator('tr[data-cron="every-minute"] .cron-state').innerText()).toBe('enabled');
    expect((await q.crontab.get('nightly-report'))!.activated).toBe(false);
    await shot(page, `${dialect}-crontab-disabled`);
    await page.context().close();
  });
});
