/**
 * `signalq cron ...` and the crontab in `signalq work`, as a user meets them: one-line refusals (exit 2) that name
 * the value and write nothing, the read-only mode, export/import through a file, and a worker that runs the crontab.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.ts';
import { freshCommandDatabase } from '../helpers/queue.ts';
import { fixtureHandlers, hasStackTrace, linesOf, runCli, startCli, waitFor, type CliResult } from './cli-helpers.ts';

const fresh = freshCommandDatabase;

function expectRefusal(r: CliResult, pattern: RegExp): void {
  const what = `exit ${r.code}, stderr: ${r.stderr}`;
  expect(r.code, what).toBe(2);
  expect(linesOf(r.stderr), what).toHaveLength(1);
  expect(r.stderr, what).toMatch(pattern);
  expect(hasStackTrace(r.stderr), what).toBe(false);
  expect(r.stdout, what).toBe('');
}

describe.each(DIALECTS)('signalq cron on %s', (dialect) => {
  it('add, list (in words, next run, last status, no-handler flag), disable, enable, off, on, remove', async () => {
    const { db, q } = await fresh(dialect);
    const cli = (...args: string[]) => runCli([...args, '--db', db]);
    const added = await cli('cron', 'add', 'nightly', '0 3 * * *', 'report', '{"to":"ops"}', '--tz', 'Europe/Paris', '--missed', 'once');
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^added cron nightly: At 03:00 \(Europe\/Paris\), enqueues report; next run \d{4}-/);

    const list = await cli('cron', 'list');
    expect(list.stdout).toContain('the crontab is on');
    expect(list.stdout).toMatch(/nightly {2}0 3 \* \* \* Europe\/Paris {2}\(At 03:00 \(Europe\/Paris\)\) {2}report {2}enabled {2}missed:once {2}next \d{4}-.* {2}last -/);
    expect(list.stdout).toContain('warning: no live worker takes report');
    const json = JSON.parse((await cli('cron', 'list', '--json')).stdout);
    expect(json).toMatchObject({ enabled: true, crons: [{ name: 'nightly', payload: { to: 'ops' }, missed: 'once', description: 'At 03:00 (Europe/Paris)', noHandler: true, lastStatus: null }] });

    expect((await cli('cron', 'disable', 'nightly')).stdout).toBe('cron nightly disabled\n');
    expect((await q.crontab.get('nightly'))!.activated).toBe(false);
    expect((await cli('cron', 'enable', 'nightly')).stdout).toMatch(/^cron nightly enabled; next run /);
    expect((await cli('cron', 'off')).stdout).toBe('the crontab is off\n');
    expect(await q.crontab.enabled()).toBe(false);
    expect((await cli('cron', 'on')).stdout).toBe('the crontab is on\n');
    expect((await cli('cron', 'logs', 'nightly')).stdout).toBe('no log entries for cron nightly yet\n');
    expect((await cli('cron', 'remove', 'nightly')).stdout).toBe('removed cron nightly\n');
    expect(await q.crontab.list()).toEqual([]);
  });

  it('refuses a bad expression, time zone, policy, type, name or payload, and a taken name, naming it; nothing written', async () => {
    const { db, q } = await fresh(dialect);
    const cli = (...args: string[]) => runCli([...args, '--db', db]);
    expectRefusal(await cli('cron', 'add', 'c', '61 * * * *', 'job'), /cron expression "61 \* \* \* \*" is invalid/);
    expectRefusal(await cli('cron', 'add', 'c', '* * *', 'job'), /cron expression "\* \* \*" has 3 field\(s\)/);
    expectRefusal(await cli('cron', 'add', 'c', '* * * * *', 'job', '--tz', 'Mars/Base'), /time zone "Mars\/Base" is unknown/);
    expectRefusal(await cli('cron', 'add', 'c', '* * * * *', 'job', '--missed', 'twice'), /missed-run policy "twice" is invalid; use skip, once or all/);
    expectRefusal(await cli('cron', 'add', 'c', '* * * * *', 'no such type!'), /item type "no such type!" is invalid/);
    expectRefusal(await cli('cron', 'add', 'a b', '* * * * *', 'job'), /cron name "a b" is invalid/);
    expectRefusal(await cli('cron', 'add', 'c', '* * * * *', 'job', '{oops'), /payload "\{oops" is not valid JSON/);
    expect(await q.crontab.list()).toEqual([]);
    expect((await cli('cron', 'add', 'c', '* * * * *', 'job')).code).toBe(0);
    expectRefusal(await cli('cron', 'add', 'c', '*/5 * * * *', 'job'), /a cron named "c" exists/);
    expectRefusal(await cli('cron', 'disable', 'nope'), /no cron named "nope"/);
    expectRefusal(await cli('cron', 'logs', 'nope'), /no cron named "nope"/);
    expect((await q.crontab.list()).map((c) => c.expression)).toEqual(['* * * * *']);
  });

  it('export > file, import into an empty database: the same crontab; import is idempotent; read-only refuses changes', async () => {
    const { db, q } = await fresh(dialect);
    await q.crontab.add({ name: 'a', expression: '*/5 * * * *', type: 'job', payload: { n: 1 }, noOverlap: true });
    await q.crontab.add({ name: 'b', expression: '0 9 * * 1-5', timezone: 'UTC', type: 'job', activated: false, missed: 'all' });
    const exported = await runCli(['cron', 'export', '--db', db]);
    expect(exported.code, exported.stderr).toBe(0);
    const file = join(mkdtempSync(join(tmpdir(), 'signalq-crontab-')), 'crontab.json');
    writeFileSync(file, exported.stdout);

    const { db: db2 } = await fresh(dialect);
    const first = await runCli(['cron', 'import', file, '--db', db2]);
    expect(first.stdout).toBe(`imported ${file}: 2 added, 0 changed, 0 unchanged\n`);
    expect((await runCli(['cron', 'import', file, '--db', db2])).stdout).toBe(`imported ${file}: 0 added, 0 changed, 2 unchanged\n`);
    expect((await runCli(['cron', 'export', '--db', db2])).stdout).toBe(exported.stdout);

    const readOnly = { env: { SIGNALQ_CRONTAB_READONLY: '1' } };
    for (const args of [['cron', 'add', 'c', '* * * * *', 'job'], ['cron', 'remove', 'a'], ['cron', 'disable', 'a'], ['cron', 'off'], ['cron', 'import', file]]) {
      expectRefusal(await runCli([...args, '--db', db], readOnly), /the crontab is read-only on this host/);
    }
    expect((await runCli(['cron', 'list', '--db', db], readOnly)).code).toBe(0);
    expect((await runCli(['cron', 'export', '--db', db])).stdout).toBe(exported.stdout);

    writeFileSync(file, JSON.stringify({ crons: [{ name: 'x', expression: '* * * * *', type: 'job', missed: 'later' }] }));
    expectRefusal(await runCli(['cron', 'import', file, '--db', db2]), /crons\[0\]: missed-run policy "later" is invalid/);
  });
});

describe('signalq work runs the crontab', () => {
  it('enqueues on the cron\'s ticks, handlers run the items, cron logs says OK; a type no handler takes is flagged', async () => {
    const { db, q } = await fresh('sqlite');
    await q.crontab.add({ name: 'beat', expression: '*/1 * * * * *', type: 'job', payload: { n: 1 } });
    await q.crontab.add({ name: 'orphan', expression: '0 3 * * *', type: 'nobody.takes' });
    const worker = startCli(['work', '--handlers', fixtureHandlers('handlers-basic'), '--db', db]);
    try {
      await waitFor('a cron run to be logged OK', async () => (await q.crontab.logs('beat')).some((e) => e.status === 'OK'), 40_000);
      await waitFor('the worker to flag the orphan cron', () => worker.stderr().includes('cron orphan enqueues nobody.takes, which no handler of this worker takes'), 10_000);
      const logs = await runCli(['cron', 'logs', 'beat', '--db', db]);
      expect(logs.stdout).toMatch(/^\d{4}-\S+ {2}OK {7}item \d+ done$/m);
    } finally {
      worker.child.kill('SIGTERM');
    }
    const r = await worker.result;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('beat enqueues');
  });
});

describe('three signalq work processes on MariaDB running the same crontab', () => {
  it('enqueue one item per tick: every item has its tick row, no tick two items', async () => {
    const { db, q } = await fresh('mysql');
    await q.crontab.add({ name: 'beat', expression: '*/1 * * * * *', type: 'job' });
    const workers = [0, 1, 2].map(() => startCli(['work', '--handlers', fixtureHandlers('handlers-basic'), '--db', db]));
    const ticks = async () => Number((await q.knex('signalq_cron_runs').whereNotNull('item_id').count({ c: '*' }))[0].c);
    try {
      await waitFor('three workers to be up', async () => (await q.admin.workers()).filter((w) => w.alive).length === 3, 40_000);
      const from = await ticks();
      await waitFor('five more ticks with all three workers up', async () => (await ticks()) >= from + 5, 40_000);
    } finally {
      for (const w of workers) w.child.kill('SIGTERM');
    }
    for (const w of workers) expect((await w.result).code).toBe(0);
    const runs = await q.knex('signalq_cron_runs').select('scheduled_at', 'item_id').whereNotNull('item_id');
    const items = await q.knex('signalq_items').select('id').where({ type: 'job' });
    expect(items.length).toBe(runs.length);
    expect(new Set(runs.map((r: any) => Number(r.item_id)))).toEqual(new Set(items.map((i: any) => Number(i.id))));
    expect(new Set(runs.map((r: any) => Number(r.scheduled_at))).size).toBe(runs.length);
  });
});
