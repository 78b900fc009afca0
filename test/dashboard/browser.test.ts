/**
 * The dashboard in headless Chromium (Debian's `chromium`, driven by playwright-core), on SQLite and
 * MySQL/MariaDB, as a new user meets it: the overview updating on its own, the items filtered, one opened, a
 * failed item retried and watched until a worker running in the test makes it done, a finished one deleted; and a
 * payload and error holding markup shown as text, with no script run. Each test saves screenshots under
 * test-output/dashboard/.
 */
import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../src/errors.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue, sameDatabase } from '../helpers/queue.ts';
import { dashboardOf, until } from './helpers.ts';
import { newPage, shot, useBrowser } from './browser.ts';

useBrowser();

describe.each(DIALECTS)('dashboard in a browser on %s', (dialect) => {
  it('a new user watches the overview, filters items, retries a failed item until it is done, and deletes it', async () => {
    const worker = await freshQueue(dialect);
    const failedOnce = new Set<number>();
    worker.connect({
      name: 'charger',
      types: ['charge'],
      handle: (item) => {
        if (!failedOnce.has(item.id)) {
          failedOnce.add(item.id);
          throw new PermanentError('card declined by the test bank');
        }
      },
    });
    worker.connect({ name: 'mailer', types: ['mail'], handle: () => {} });
    const charge = await worker.enqueue('charge', { amount: 12 });
    await worker.enqueue('mail', { to: 'ada' });
    await worker.enqueue('orphan', { misspelt: true });
    const working = worker.work();
    await until(() => worker.admin.get(charge.id), (i) => i?.status === 'error');
    const d = await dashboardOf(await sameDatabase(worker));
    const page = await newPage();

    // The overview: counts, the type no worker takes flagged, and a live update without reload.
    await page.goto(d.base + '/');
    await page.locator('[data-count="error"]', { hasText: '1' }).waitFor();
    await page.locator('tr.flagged', { hasText: 'orphan' }).locator('text=no live worker takes this type').waitFor();
    await page.evaluate(() => ((window as any).__loaded = true));
    await worker.enqueue('orphan', { second: true });
    await page.locator('[data-count="pending"]', { hasText: '2' }).waitFor();
    expect(await page.evaluate(() => (window as any).__loaded)).toBe(true); // updated in place, not reloaded
    await shot(page, `${dialect}-overview`);

    // Items, filtered to the failed ones.
    await page.click('nav >> text=Items');
    await page.selectOption('select[name=status]', 'error');
    await page.click('form.filter button[type=submit]');
    await page.waitForURL(/status=error/);
    const rows = page.locator('table.items tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().innerText()).toContain('charge');
    await shot(page, `${dialect}-items-error`);

    // The item: its error, then retry, and the page follows it to done.
    await rows.first().locator('a').first().click();
    await page.waitForURL(new RegExp(`/items/${charge.id}$`));
    expect(await page.locator('table.results').innerText()).toContain('card declined by the test bank');
    await page.click('button:has-text("Retry")');
    await page.locator('#outcome', { hasText: `item ${charge.id} is back to pending` }).waitFor();
    await shot(page, `${dialect}-item-retried`);
    await page.locator('h1 .status', { hasText: 'done' }).waitFor();
    expect(await page.locator('table.results').innerText()).toMatch(/charger\s+ok\s+2/);
    await shot(page, `${dialect}-item-done`);

    // Delete the finished item.
    await page.click('button:has-text("Delete")');
    await page.waitForURL(/\/items$/);
    await page.locator('#outcome', { hasText: `item ${charge.id} (charge, done) is deleted` }).waitFor();
    expect(await worker.admin.get(charge.id)).toBeUndefined();
    await shot(page, `${dialect}-item-deleted`);

    // Workers: this test's worker, with its handlers.
    await page.click('nav >> text=Workers');
    expect(await page.locator('#workers-body').innerText()).toMatch(/charger \(charge\)[\s\S]*mailer \(mail\)/);
    await shot(page, `${dialect}-workers`);

    await page.context().close();
    worker.stop();
    await working;
  });

  it('shows a payload and a handler error holding <script> and <img onerror> as text, running none of it', async () => {
    const q = await freshQueue(dialect);
    q.connect({ name: 'h', types: '*', handle: () => { throw new PermanentError('<img src=x onerror="window.__xss = 3">'); } });
    const payload = { note: '<script>window.__xss = 1</script>', pic: '<img src=x onerror="window.__xss = 2">' };
    const { id } = await q.enqueue('charge', payload);
    await q.process();
    const d = await dashboardOf(q);
    const page = await newPage();
    await page.goto(`${d.base}/items/${id}`);
    const shown = await page.locator('pre.payload').innerText();
    expect(JSON.parse(shown)).toEqual(payload);
    expect(await page.locator('table.results pre.error').innerText()).toBe('<img src=x onerror="window.__xss = 3">');
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.locator('main script').count()).toBe(0);
    expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
    await shot(page, `${dialect}-markup-as-text`);
    await page.context().close();
  });
});
