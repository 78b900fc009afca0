/**
 * The dashboard's crontab on SQLite and MySQL/MariaDB: every cron with its expression in words, next run and last
 * runs as OK, WARN, FAILURE, NOTRUN and RUNNING; enable, disable and the global switch by the page's forms and the
 * API; refused (nothing changed) for a read-only token, a cross-site form, a missing cron, and a read-only crontab.
 */
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue, sameDatabase } from '../helpers/queue.ts';
import { runnerOf } from '../schedules/helpers.ts';
import { dashboardOf, login, postForm } from './helpers.ts';

const TOKEN = 'admin-token-0123456789abcdef';
const READONLY = 'readonly-token-0123456789abcdef';
const MIN = 60_000;
const call = async (base: string, method: string, path: string, token = TOKEN) => {
  const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as any };
};

describe.each(DIALECTS)('dashboard crontab on %s', (dialect) => {
  it('lists each cron in words with its latest runs: OK, WARN, FAILURE, NOTRUN, RUNNING', async () => {
    const q = await freshQueue(dialect);
    let fails = 0;
    q.connect({ name: 'h', types: ['good', 'bad', 'flaky'], handle(item) {
      if (item.type === 'bad') throw new Error('always fails');
      if (item.type === 'flaky' && fails++ === 0) throw new Error('fails once');
    } });
    for (const type of ['good', 'bad', 'flaky']) await q.crontab.add({ name: `c-${type}`, expression: '* * * * *', type });
    await q.crontab.add({ name: 'c-solo', expression: '* * * * *', type: 'long', noOverlap: true });
    await q.crontab.add({ name: 'nightly', expression: '0 3 * * *', timezone: 'Europe/Paris', type: 'report', activated: false });
    const runner = runnerOf(q);
    const t = (await q.crontab.get('c-good'))!.nextRunAt!.getTime();
    await runner.runDue(t);
    await runner.runDue(t + MIN); // c-solo's first item is unfinished (no handler): NOTRUN
    while ((await q.process()).claimed > 0);
    await runner.finishRuns();
    const d = await dashboardOf(await sameDatabase(q), { token: TOKEN });
    const { body } = await call(d.base, 'GET', '/api/crontab');
    expect(body.enabled).toBe(true);
    expect(body.readOnly).toBe(false);
    const byName = Object.fromEntries(body.crons.map((c: any) => [c.name, c]));
    expect(byName['c-good'].runs.map((r: any) => r.status)).toEqual(['OK', 'OK']);
    expect(byName['c-bad'].lastStatus).toBe('FAILURE');
    expect(byName['c-flaky'].runs.map((r: any) => r.status)).toEqual(['OK', 'WARN']);
    expect(byName['c-solo'].runs.map((r: any) => r.status)).toEqual(['NOTRUN', 'RUNNING']);
    expect(byName.nightly).toMatchObject({ activated: false, timezone: 'Europe/Paris', runs: [] });
    // Every cron's latest runs in one read, cut at the number asked for.
    const latest = await q.crontab.latestLogs(1);
    expect([...latest.keys()].sort()).toEqual(['c-bad', 'c-flaky', 'c-good', 'c-solo']);
    expect([...latest.values()].map((runs) => runs.length)).toEqual([1, 1, 1, 1]);
    expect(latest.get('c-solo')!.map((r) => r.status)).toEqual(['NOTRUN']);
    await expect(q.crontab.latestLogs(0)).rejects.toThrow('perCron 0 is invalid; use a whole number from 1 to 1000');
    expect(typeof byName.nightly.description).toBe('string');

    const page = await (await fetch(`${d.base}/crontab`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    for (const s of ['OK', 'WARN', 'FAILURE', 'NOTRUN', 'RUNNING']) expect(page, s).toContain(`<span class="cron-${s}">${s}</span>`);
    expect(page).toContain(byName.nightly.description);
    expect(page).toContain('action="/crontab/nightly/enable"');
    expect(page).toContain('action="/crontab/c-good/disable"');
    expect(page).toContain('action="/crontab/off"');
  });

  it('enables, disables and switches by API and form, and refuses a read-only token, a forged form and a missing cron', async () => {
    const q = await freshQueue(dialect);
    await q.crontab.add({ name: 'tick', expression: '*/5 * * * *', type: 'beat' });
    const d = await dashboardOf(q, { token: TOKEN, readonlyToken: READONLY });
    const off = await call(d.base, 'POST', '/api/crontab/tick/disable');
    expect(off).toMatchObject({ status: 200, body: { cron: { name: 'tick', activated: false }, message: 'cron tick is disabled; running workers stop it within seconds' } });
    const on = await call(d.base, 'POST', '/api/crontab/tick/enable');
    expect(on.body.message).toMatch(/^cron tick is enabled; next run \d{4}-/);
    expect(await call(d.base, 'POST', '/api/crontab/nope/disable')).toEqual({ status: 404, body: { error: 'no cron named "nope"; see signalq cron list' } });
    expect(await call(d.base, 'POST', '/api/crontab/tick/disable', READONLY)).toEqual({ status: 403, body: { error: 'this token is read-only: it can look but not act' } });
    expect(await call(d.base, 'POST', '/api/crontab/off', READONLY)).toMatchObject({ status: 403 });
    expect(await call(d.base, 'POST', '/api/crontab/off')).toEqual({ status: 200, body: { enabled: false, message: 'the crontab is off: no cron runs until it is turned on' } });
    expect(await q.crontab.enabled()).toBe(false);

    const ro = await login(d.base, READONLY);
    const roPage = await (await fetch(`${d.base}/crontab`, { headers: { cookie: ro.cookie } })).text();
    expect(roPage).toContain('read-only: this token cannot change the crontab');
    expect(roPage).not.toContain('action="/crontab/tick/disable"');
    expect((await postForm(d.base, '/crontab/tick/disable', ro)).status).toBe(403);
    const s = await login(d.base, TOKEN);
    expect((await postForm(d.base, '/crontab/tick/disable', s, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await postForm(d.base, '/crontab/tick/disable', s, { csrf: null })).status).toBe(403);
    expect((await q.crontab.get('tick'))!.activated).toBe(true);
    const done = await postForm(d.base, '/crontab/tick/disable', s);
    expect([done.status, done.headers.get('location')]).toEqual([303, '/crontab']);
    expect((await q.crontab.get('tick'))!.activated).toBe(false);
    expect(await (await fetch(`${d.base}/crontab`, { headers: { cookie: s.cookie } })).text()).toContain('cron tick is disabled');
    expect((await postForm(d.base, '/crontab/on', s)).status).toBe(303);
    expect(await q.crontab.enabled()).toBe(true);
  });

  it('refuses every change on a read-only crontab with its message, changing nothing', async () => {
    const q = await freshQueue(dialect);
    await q.crontab.add({ name: 'tick', expression: '* * * * *', type: 'beat' });
    const d = await dashboardOf(await sameDatabase(q, { crontab: { readOnly: true } }), { token: TOKEN });
    const refused = await call(d.base, 'POST', '/api/crontab/tick/disable');
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/^cannot disable a cron: the crontab is read-only on this host/);
    const s = await login(d.base, TOKEN);
    const page = await (await fetch(`${d.base}/crontab`, { headers: { cookie: s.cookie } })).text();
    expect(page).toContain('the crontab is read-only on this host');
    expect(page).not.toContain('action="/crontab/tick/disable"');
    expect((await postForm(d.base, '/crontab/off', s)).status).toBe(303);
    expect(await (await fetch(`${d.base}/crontab`, { headers: { cookie: s.cookie } })).text()).toContain('cannot turn the crontab off: the crontab is read-only on this host');
    expect(await q.crontab.enabled()).toBe(true);
    expect((await q.crontab.get('tick'))!.activated).toBe(true);
  });
});
