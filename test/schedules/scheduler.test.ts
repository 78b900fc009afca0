/**
 * The crontab runner against real databases, with the test's clock: ticks fire, a restart resumes, missed ticks
 * follow each policy, disabling (one cron or all) stops it without a restart, logs carry the items' outcomes.
 */
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue, sameDatabase } from '../helpers/queue.ts';
import { itemsOf, runnerOf, runsOf } from './helpers.ts';

const MIN = 60_000;

describe.each(DIALECTS)('crontab runner on %s', (dialect) => {
  it('fires on its ticks, one item each, and not between them', async () => {
    const q = await freshQueue(dialect);
    const cron = await q.crontab.add({ name: 'tick', expression: '* * * * *', type: 'beat', payload: { n: 1 } });
    const t = cron.nextRunAt!.getTime();
    const runner = runnerOf(q);
    expect(await runner.runDue(t - 1)).toEqual({ enqueued: 0, notRun: 0 });
    expect(await runner.runDue(t)).toEqual({ enqueued: 1, notRun: 0 });
    expect(await runner.runDue(t + 1_000)).toEqual({ enqueued: 0, notRun: 0 });
    expect(await runner.runDue(t + MIN + 2_000)).toEqual({ enqueued: 1, notRun: 0 });
    const items = await itemsOf(q, 'beat');
    expect(items).toHaveLength(2);
    expect((await q.admin.get(items[0].id))!.payload).toEqual({ n: 1 });
    expect((await runsOf(q, 'tick')).map((r) => r.scheduled_at)).toEqual([t, t + MIN]);
    expect((await q.crontab.get('tick'))!.nextRunAt!.getTime()).toBe(t + 2 * MIN);
    expect((await q.crontab.get('tick'))!.lastRunAt!.getTime()).toBe(t + MIN);
  });

  it('a restart restores every cron with its next run, and resumes there', async () => {
    const q = await freshQueue(dialect);
    await q.crontab.add({ name: 'a', expression: '* * * * *', type: 'beat' });
    await q.crontab.add({ name: 'b', expression: '0 3 * * *', timezone: 'Europe/Paris', type: 'nightly', missed: 'all' });
    const t = (await q.crontab.get('a'))!.nextRunAt!.getTime();
    await runnerOf(q).runDue(t);
    const before = await q.crontab.list();
    await q.close();

    const again = await sameDatabase(q);
    const after = await again.crontab.list();
    expect(after.map(({ name, nextRunAt, expression, timezone, missed }) => ({ name, nextRunAt, expression, timezone, missed })))
      .toEqual(before.map(({ name, nextRunAt, expression, timezone, missed }) => ({ name, nextRunAt, expression, timezone, missed })));
    expect(after[0].nextRunAt!.getTime()).toBe(t + MIN);
    expect(await runnerOf(again).runDue(t + MIN)).toEqual({ enqueued: 1, notRun: 0 });
  });

  it('a worker stopped over three ticks, restarted: skip runs none, once one, all three; NOTRUN logs the rest', async () => {
    const q = await freshQueue(dialect);
    for (const missed of ['skip', 'once', 'all'] as const) await q.crontab.add({ name: missed, expression: '* * * * *', type: `t-${missed}`, missed });
    const t = (await q.crontab.get('skip'))!.nextRunAt!.getTime();
    await runnerOf(q).runDue(t); // the worker runs tick t, then stops
    await q.close();

    const restarted = await sameDatabase(q);
    // Back 45 s after the third missed tick (t+3m): past the 30 s grace, so all three were missed.
    const summary = await runnerOf(restarted).runDue(t + 3 * MIN + 45_000);
    expect(summary).toEqual({ enqueued: 1 + 3, notRun: 2 });
    expect(await itemsOf(restarted, 't-skip')).toHaveLength(1);
    expect(await itemsOf(restarted, 't-once')).toHaveLength(2);
    expect(await itemsOf(restarted, 't-all')).toHaveLength(4);

    const skipLogs = await restarted.crontab.logs('skip');
    expect(skipLogs[0]).toMatchObject({ status: 'NOTRUN', itemId: null, scheduledAt: new Date(t + 3 * MIN) });
    expect(skipLogs[0].message).toContain('missed 3 tick(s)');
    const onceRuns = await runsOf(restarted, 'once');
    expect(onceRuns.map((r) => [r.scheduled_at - t, r.item_id != null])).toEqual([[0, true], [2 * MIN, false], [3 * MIN, true]]);
    expect((await runsOf(restarted, 'all')).map((r) => r.scheduled_at - t)).toEqual([0, MIN, 2 * MIN, 3 * MIN]);
    for (const name of ['skip', 'once', 'all']) expect((await restarted.crontab.get(name))!.nextRunAt!.getTime()).toBe(t + 4 * MIN);
  });

  it('disabling a cron, or the whole crontab, from another process stops it at once; enabling schedules from now', async () => {
    const q = await freshQueue(dialect);
    const cron = await q.crontab.add({ name: 'c', expression: '* * * * *', type: 'beat' });
    const t = cron.nextRunAt!.getTime();
    const runner = runnerOf(q);
    const cli = await sameDatabase(q); // the CLI or the dashboard

    await cli.crontab.setActivated('c', false);
    expect(await runner.runDue(t + 5 * MIN)).toEqual({ enqueued: 0, notRun: 0 });
    const enabled = await cli.crontab.setActivated('c', true);
    expect(enabled.nextRunAt!.getTime()).toBeGreaterThan(Date.now() - 1_000); // not the ticks it missed while disabled

    await cli.crontab.setEnabled(false);
    expect(await cli.crontab.enabled()).toBe(false);
    expect(await runner.runDue(enabled.nextRunAt!.getTime() + 10 * MIN)).toEqual({ enqueued: 0, notRun: 0 });
    await cli.crontab.setEnabled(true);
    const next = (await cli.crontab.get('c'))!.nextRunAt!.getTime();
    expect(await runner.runDue(next)).toEqual({ enqueued: 1, notRun: 0 });
    expect(await itemsOf(q, 'beat')).toHaveLength(1);
  });

  it('logs carry the outcome: OK for done, FAILURE for error, WARN for retried; cronStarted and cronFinished on the bus', async () => {
    const q = await freshQueue(dialect, { maxTrials: 2 });
    let fails = 0;
    q.connect({ name: 'h', types: ['good', 'bad', 'flaky'], handle(item) {
      if (item.type === 'bad') throw new Error('always fails');
      if (item.type === 'flaky' && fails++ === 0) throw new Error('fails once');
    } });
    for (const type of ['good', 'bad', 'flaky']) await q.crontab.add({ name: `c-${type}`, expression: '* * * * *', type });
    const started: string[] = [];
    const finished: string[] = [];
    q.on('cronStarted', (e) => started.push(e.name));
    q.on('cronFinished', (e) => finished.push(`${e.name}:${e.status}`));
    const runner = runnerOf(q);
    const t = (await q.crontab.get('c-good'))!.nextRunAt!.getTime();
    await runner.runDue(t);
    expect(started.sort()).toEqual(['c-bad', 'c-flaky', 'c-good']);
    expect((await q.crontab.logs('c-good'))[0].status).toBe('RUNNING');

    while ((await q.process()).claimed > 0); // backoff 0: retries are due at once
    expect(await runner.finishRuns()).toBe(3);
    expect(await runner.finishRuns()).toBe(0); // once
    const statusOf = async (name: string) => (await q.crontab.logs(name))[0];
    expect(await statusOf('c-good')).toMatchObject({ status: 'OK' });
    expect(await statusOf('c-bad')).toMatchObject({ status: 'FAILURE', message: expect.stringContaining('always fails') });
    expect(await statusOf('c-flaky')).toMatchObject({ status: 'WARN', message: expect.stringContaining('2 trials') });
    expect(finished.sort()).toEqual(['c-bad:FAILURE', 'c-flaky:WARN', 'c-good:OK']);
    expect((await q.crontab.list()).map((c) => c.lastStatus)).toEqual(['FAILURE', 'WARN', 'OK']);
  });

  it('a cron that must not overlap skips a tick while its previous item is unfinished, logging NOTRUN', async () => {
    const q = await freshQueue(dialect);
    const cron = await q.crontab.add({ name: 'solo', expression: '* * * * *', type: 'long', noOverlap: true });
    const t = cron.nextRunAt!.getTime();
    const runner = runnerOf(q);
    await runner.runDue(t);
    expect(await runner.runDue(t + MIN)).toEqual({ enqueued: 0, notRun: 1 });
    expect((await q.crontab.logs('solo'))[0]).toMatchObject({ status: 'NOTRUN', message: expect.stringContaining('not finished') });
    q.connect({ name: 'h', types: ['long'], handle() {} });
    await q.process();
    expect(await runner.runDue(t + 2 * MIN)).toEqual({ enqueued: 1, notRun: 0 });
  });

  it('keeps the last N log entries per cron', async () => {
    const q = await freshQueue(dialect);
    const t = (await q.crontab.add({ name: 'c', expression: '* * * * *', type: 'beat' })).nextRunAt!.getTime();
    const runner = runnerOf(q, {}, 3);
    for (let i = 0; i < 6; i++) await runner.runDue(t + i * MIN);
    expect((await q.crontab.logs('c')).map((e) => e.scheduledAt.getTime() - t)).toEqual([5 * MIN, 4 * MIN, 3 * MIN]);
    expect(await itemsOf(q, 'beat')).toHaveLength(6);
  });

  it('export then import into an empty database gives the same crontab; importing again changes nothing', async () => {
    const q = await freshQueue(dialect);
    await q.crontab.add({ name: 'nightly', expression: '0 3 * * *', timezone: 'Europe/Paris', type: 'report', payload: { to: 'ops', emoji: '🕒' }, missed: 'once' });
    await q.crontab.add({ name: 'Nightly', expression: '*/10 * * * * *', type: 'beat', noOverlap: true, activated: false });
    await q.crontab.setEnabled(false);
    const doc = JSON.parse(JSON.stringify(await q.crontab.export()));

    // Names compare byte for byte (Nightly sorts before nightly), on a latin1 MySQL database too (the emoji is kept).
    const empty = await freshQueue(dialect, {}, dialect === 'mysql' ? { charset: 'latin1' } : {});
    expect(await empty.crontab.import(doc)).toEqual({ added: ['Nightly', 'nightly'], changed: [], unchanged: [], removed: [] });
    expect(await empty.crontab.export()).toEqual(await q.crontab.export());
    expect(await empty.crontab.import(doc)).toEqual({ added: [], changed: [], unchanged: ['Nightly', 'nightly'], removed: [] });

    // A changed file: one cron changed, one gone (removed with prune only).
    doc.crons = [{ ...doc.crons[1], payload: { to: 'dev' } }];
    expect(await empty.crontab.import(doc)).toEqual({ added: [], changed: ['nightly'], unchanged: [], removed: [] });
    expect(await empty.crontab.import(doc, { prune: true })).toEqual({ added: [], changed: [], unchanged: ['nightly'], removed: ['Nightly'] });
    expect((await empty.crontab.list()).map((c) => [c.name, c.payload])).toEqual([['nightly', { to: 'dev' }]]);
  });

  it('refuses bad crons and a read-only crontab, naming the value, writing nothing', async () => {
    const q = await freshQueue(dialect);
    const bad = [
      [{ name: 'x', expression: '61 * * * *', type: 'a' }, '"61 * * * *"'],
      [{ name: 'x', expression: '* * * * *', timezone: 'Mars/Base', type: 'a' }, '"Mars/Base"'],
      [{ name: 'x', expression: '* * * * *', type: 'no spaces' }, '"no spaces"'],
      [{ name: 'x', expression: '* * * * *', type: 'a', missed: 'twice' }, '"twice"'],
      [{ name: 'bad name', expression: '* * * * *', type: 'a' }, '"bad name"'],
    ] as const;
    for (const [spec, named] of bad) await expect(q.crontab.add(spec as any)).rejects.toThrow(named);
    await expect(q.crontab.import({ crons: [{ name: 'ok', expression: '* * * * *', type: 'a' }, { name: 'x', expression: '* *', type: 'a' }] }, { source: 'crontab.json' }))
      .rejects.toThrow('crontab.json crons[1]: cron expression "* *"');
    expect(await q.crontab.list()).toEqual([]);

    const ro = await sameDatabase(q, { crontab: { readOnly: true } });
    await expect(ro.crontab.add({ name: 'x', expression: '* * * * *', type: 'a' })).rejects.toThrow('read-only');
    await expect(ro.crontab.setEnabled(false)).rejects.toThrow('read-only');
    await expect(ro.crontab.import({ crons: [] })).rejects.toThrow('read-only');
    expect(await ro.crontab.list()).toEqual([]);
    expect(await ro.crontab.enabled()).toBe(true);
  });
});
