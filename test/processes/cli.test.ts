/**
 * The `signalq` command as a user meets it: exit codes (0 ok, 2 usage, 75 lock busy, 1 other), one-line errors
 * with no stack trace, refusals that write nothing, and the documented `--json` outputs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { afterEach, describe, expect, it } from 'vitest';
import type { Queue } from '../../src/queue/queue.ts';
import { DIALECTS, MYSQL_URL } from '../helpers/databases.ts';
import { freshCommandDatabase } from '../helpers/queue.ts';
import { fixtureHandlers, hasStackTrace, linesOf, runCli, startCli, waitFor, type CliResult, type RunningCli } from './cli-helpers.ts';

const BASIC = fixtureHandlers('handlers-basic');
const SLOW = fixtureHandlers('handlers-slow');
const STATUSES = ['pending', 'in_progress', 'need_retry', 'done', 'error', 'canceled'];

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const tempDir = () => mkdtempSync(join(tmpdir(), 'signalq-cli-test-'));

/** A migrated queue on a fresh database, for the test to set up and inspect what the command did. */
const fresh = freshCommandDatabase;

const itemCount = async (q: Queue) => Number((await q.knex('signalq_items').count({ c: '*' }))[0].c);

/** A user's mistake: the given exit code, one line on stderr starting `signalq:`, no stack trace, nothing on stdout. */
function expectOneLineError(r: CliResult, code: number, pattern?: RegExp): void {
  const what = `exit ${r.code}, stderr: ${r.stderr}`;
  expect(r.code, what).toBe(code);
  expect(linesOf(r.stderr), what).toHaveLength(1);
  expect(r.stderr, what).toMatch(/^signalq: /);
  expect(hasStackTrace(r.stderr), what).toBe(false);
  expect(r.stdout, what).toBe('');
  if (pattern) expect(r.stderr, what).toMatch(pattern);
}

/** A process that is surely dead: one that ran and exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  expect(r.status).toBe(0);
  return r.pid!;
}

describe('signalq lock file', () => {
  it('held by a live process: `process` exits 75 naming its PID, runs nothing and leaves the lock alone', async () => {
    const { db, q } = await fresh('sqlite');
    const { id } = await q.enqueue('job', { n: 1 });
    const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
    cleanups.push(() => holder.kill('SIGKILL'));
    const lock = join(tempDir(), 'signalq.lock');
    writeFileSync(lock, `${holder.pid}\n`);
    const r = await runCli(['process', '--lock-file', lock, '--handlers', BASIC, '--db', db]);
    expectOneLineError(r, 75, new RegExp(`PID ${holder.pid}\\b`));
    expect(r.stderr).toContain(lock);
    expect(readFileSync(lock, 'utf8').trim()).toBe(String(holder.pid));
    expect((await q.admin.get(id))?.status).toBe('pending');
  });

  it('held by a running `signalq process`: a second one exits 75 naming the first one\'s PID', async () => {
    const { db, q } = await fresh('sqlite');
    await q.knex.schema.createTable('effects', (t) => {
      t.increments('id');
      t.integer('item_id');
      t.string('handler', 20);
      t.string('phase', 10);
    });
    await q.enqueue('slow', {});
    const dir = tempDir();
    const lock = join(dir, 'signalq.lock');
    const marker = join(dir, 'hold');
    writeFileSync(marker, '');
    const first: RunningCli = startCli(['process', '--lock-file', lock, '--handlers', SLOW, '--db', db], {
      env: { SLOW_HANDLER_MS: '0', SLOW_HANDLER_UNTIL_GONE: marker },
    });
    cleanups.push(() => first.child.kill('SIGKILL'));
    await waitFor('the first batch to be running', async () => (await q.knex('effects').where({ phase: 'start' })).length > 0);
    const second = await runCli(['process', '--lock-file', lock, '--handlers', SLOW, '--db', db]);
    expectOneLineError(second, 75, new RegExp(`PID ${first.child.pid}\\b`));
    unlinkSync(marker);
    const r = await first.result;
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(lock)).toBe(false); // released on exit
  });

  it('left by a dead process: taken over with a warning naming it, the batch runs, exit 0', async () => {
    const { db, q } = await fresh('sqlite');
    const { id } = await q.enqueue('job', { n: 1 });
    const dead = deadPid();
    const lock = join(tempDir(), 'signalq.lock');
    writeFileSync(lock, `${dead}\n`);
    const r = await runCli(['process', '--lock-file', lock, '--handlers', BASIC, '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(linesOf(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^signalq: warning: .*PID ${dead}\\b.*no longer running`));
    expect(r.stdout).toMatch(/claimed 1, done 1/);
    expect((await q.admin.get(id))?.status).toBe('done');
    expect(existsSync(lock)).toBe(false);
  });
});

describe('signalq usage errors', () => {
  it('bad flags, options and commands exit 2 with one line and no stack trace', async () => {
    const db = `sqlite:${join(tempDir(), 'q.sqlite')}`;
    const cases: [string[], RegExp][] = [
      [['process', '--no-lock', '--limit', 'abc'], /--limit "abc"/],
      [['process', '--no-lock', '--lease', 'xyz'], /--lease "xyz"/],
      [['process', '--no-lock', '--concurrency', '0'], /--concurrency "0"/],
      [['work', '--limit', '-5'], /--limit "-5"/],
      [['process', '--no-such-flag'], /unknown option '--no-such-flag'/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['show', 'abc'], /item id "abc"/],
      [['purge'], /--done-older-than/],
      [['enqueue', 'job', '{}', '--delay', 'soon'], /--delay "soon"/],
      [['enqueue', 'job'], /no payload/],
    ];
    const limit = pLimit(3);
    const results = await Promise.all(cases.map(([args]) => limit(() => runCli([...args, '--db', db]))));
    results.forEach((r, i) => expectOneLineError(r, 2, cases[i][1]));
    // Refused before the database was opened: not even the file was made.
    expect(existsSync(db.slice('sqlite:'.length))).toBe(false);
  });

  it('durations past what Node\'s timers hold (24.8 days) exit 2 with one line naming the option and the limit, before opening the database', async () => {
    const db = `sqlite:${join(tempDir(), 'q.sqlite')}`;
    const cases: [string[], RegExp][] = [
      [['work', '--handler-timeout', '25d'], /option handlerTimeoutMs=2160000000 \(25 days\).*at most 2147483647 ms \(24\.8 days\)/],
      [['work', '--poll', '25d'], /option pollIntervalMs=2160000000 .*at most 2147483647 ms/],
      [['process', '--no-lock', '--lease', '75d'], /option leaseMs=6480000000 .*at most 2147483647 ms/],
      [['process', '--no-lock', '--backoff', '400d'], /option backoffBaseMs=34560000000 .*at most 31536000000 ms \(365 days\)/],
    ];
    const limit = pLimit(2);
    // Without the limit `work` would start and run on (every handler failing at once): the safety net ends it.
    const results = await Promise.all(cases.map(([args]) => limit(() => runCli([...args, '--db', db], { killAfterMs: 15_000 }))));
    results.forEach((r, i) => expectOneLineError(r, 2, cases[i][1]));
    expect(existsSync(db.slice('sqlite:'.length))).toBe(false);
  });

  it('enqueue --file of a path that cannot be read (missing, or a folder): exit 2, one line naming it', async () => {
    const dir = tempDir();
    const db = `sqlite:${join(dir, 'q.sqlite')}`;
    const [missing, folder] = await Promise.all([
      runCli(['enqueue', 'job', '--file', join(dir, 'nope.ndjson'), '--db', db]),
      runCli(['enqueue', 'job', '--file', dir, '--db', db]),
    ]);
    expectOneLineError(missing, 2, /cannot read .*nope\.ndjson.*check the path/);
    expectOneLineError(folder, 2, new RegExp(`cannot read ${dir}.*check the path`));
  });

  it('a database that is down: exit 1, one line naming the URL and what to check, without hanging', async () => {
    const url = 'mysql://root@127.0.0.1:1/test';
    const limit = pLimit(2);
    const results = await Promise.all([
      limit(() => runCli(['stats', '--db', url], { killAfterMs: 30_000 })),
      limit(() => runCli(['process', '--no-lock'], { env: { SIGNALQ_DB: url }, killAfterMs: 30_000 })),
      limit(() => runCli(['work', '--db', url], { killAfterMs: 30_000 })),
      limit(() => runCli(['enqueue', 'job', '{}', '--db', url], { killAfterMs: 30_000 })),
    ]);
    for (const r of results) {
      expect(r.signal, 'killed by the safety net: the command hung').toBeNull();
      expectOneLineError(r, 1, /check that/);
      expect(r.stderr).toContain(url);
    }
  });

  it('a malformed database URL: exit 2, one line, the password never printed (--db and SIGNALQ_DB)', async () => {
    const urls = [
      'mysql://root:s3cretpw@127.0.0.1:notaport/test',
      'mysql://root:s3cretpw/127.0.0.1:3306/test',
      'mysql://ro%zzot:s3cretpw@127.0.0.1:3306/test',
      'mysql://root:s3cretpw%zz@127.0.0.1:3306/test',
      'mysql://root:s3cretpw@127.0.0.1:3306/te%zzst',
      'mysql://root:s3cretpw@ho%zzst:3306/test',
    ];
    const limit = pLimit(3);
    const results = await Promise.all(urls.flatMap((url) => [
      limit(() => runCli(['stats', '--db', url], { killAfterMs: 30_000 })),
      limit(() => runCli(['enqueue', 'job', '{}'], { env: { SIGNALQ_DB: url }, killAfterMs: 30_000 })),
    ]));
    for (const r of results) {
      expectOneLineError(r, 2, /^signalq: database URL "mysql:\/\/ro(ot|%zzot):\*\*\*[@/].*(is not a valid URL|has a bad %-escape)/);
      expect(r.stderr).not.toMatch(/s3c|retpw/);
    }
  });

  it('MySQL refusing the login or missing the database: exit 1, one line with advice of its own, no password', async () => {
    const wrongUser = new URL(MYSQL_URL);
    wrongUser.username = 'signalq_no_such_user';
    wrongUser.password = 's3cretpw';
    const missingDb = new URL(MYSQL_URL);
    missingDb.pathname = `/signalq_missing_${process.pid}`;
    const [denied, missing] = await Promise.all([
      runCli(['stats', '--db', wrongUser.toString()], { killAfterMs: 30_000 }),
      runCli(['enqueue', 'job', '{}', '--db', missingDb.toString()], { killAfterMs: 30_000 }),
    ]);
    expectOneLineError(denied, 1, /cannot log in to the database mysql:\/\/signalq_no_such_user:\*\*\*@.*ER_ACCESS_DENIED_ERROR.*; check the user and password in the URL/);
    expect(denied.stderr).not.toMatch(/s3cretpw|start-stop-daemon/);
    expectOneLineError(missing, 1, new RegExp(`ER_BAD_DB_ERROR.*; create it: CREATE DATABASE signalq_missing_${process.pid}\\b`));
    expect(missing.stderr).not.toMatch(/start-stop-daemon/);
  });

  it('a SQLite path that cannot be created: exit 1, one line naming the database and what to check', async () => {
    const notADir = join(tempDir(), 'plain-file');
    writeFileSync(notADir, '');
    const url = `sqlite:${notADir}/q.sqlite`;
    const r = await runCli(['stats', '--db', url]);
    expectOneLineError(r, 1, /check/);
    expect(r.stderr).toContain(url);
  });
});

describe('signalq enqueue payloads', () => {
  it('an integer a number cannot hold, or nesting past 200 levels: exit 2, one line naming where, nothing written', async () => {
    const { db, q } = await fresh('sqlite');
    const dir = tempDir();
    const big = join(dir, 'big.ndjson');
    writeFileSync(big, '{"ids":[1]}\n{"ids":[1,12345678901234567890]}\n');
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const limit = pLimit(3);
    const [arg, line, deepArg, deepLine] = await Promise.all([
      limit(() => runCli(['enqueue', 'job', '{"id":12345678901234567890}', '--db', db])),
      limit(() => runCli(['enqueue', 'job', '--file', big, '--db', db])),
      limit(() => runCli(['enqueue', 'job', deep, '--db', db])),
      limit(() => runCli(['enqueue', 'job', '--file', '-', '--db', db], { input: `{"n":1}\n${deep}\n` })),
    ]);
    expectOneLineError(arg, 2, /payload\.id is an integer beyond ±9007199254740991.*send it as a string/);
    expectOneLineError(line, 2, new RegExp(`line 2 of ${big}: payload\\.ids\\[1\\] is an integer beyond`));
    expectOneLineError(deepArg, 2, /payload nests arrays and objects deeper than 200 levels/);
    expectOneLineError(deepLine, 2, /line 2: payload nests arrays and objects deeper than 200 levels/);
    expect(deepLine.stderr.length).toBeLessThan(500);
    expect(await itemCount(q)).toBe(0);
  });

  it('a file or argument starting with a UTF-8 byte order mark is read without it', async () => {
    const { db, q } = await fresh('sqlite');
    const file = join(tempDir(), 'bom.ndjson');
    writeFileSync(file, '\uFEFF{"a":1}\n{"b":2}\n');
    const fromFile = await runCli(['enqueue', 'bom', '--file', file, '--db', db]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const arg = await runCli(['enqueue', 'bom', '\uFEFF{"c":3}', '--db', db]);
    expect(arg.code, arg.stderr).toBe(0);
    expect((await q.admin.list({ type: 'bom' })).map((i) => i.payload).reverse()).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
  });
});

describe.each(DIALECTS)('signalq command line on %s', (dialect) => {
  it('enqueue refuses bad JSON, a bad type and a payload over the limit, writing nothing', async () => {
    const { db, q } = await fresh(dialect);
    const big = JSON.stringify({ s: 'x'.repeat(1_100_000) }); // over the 1 MiB default (too long for argv: via stdin)
    const limit = pLimit(3);
    const [badJson, badType, longType, tooBig] = await Promise.all([
      limit(() => runCli(['enqueue', 'job', '{"n": 1', '--db', db])),
      limit(() => runCli(['enqueue', 'bad type!', '{}', '--db', db])),
      limit(() => runCli(['enqueue', 't'.repeat(51), '{}', '--db', db])),
      limit(() => runCli(['enqueue', 'job', '--file', '-', '--db', db], { input: `{"n":1}\n${big}\n` })),
    ]);
    expectOneLineError(badJson, 2, /not valid JSON/);
    expectOneLineError(badType, 2, /item type "bad type!" is invalid/);
    expectOneLineError(longType, 2, /is invalid/);
    expectOneLineError(tooBig, 2, /line 2.*over the limit of 1048576/);
    expect(tooBig.stderr.length).toBeLessThan(500); // names the payload, does not print it
    expect(await itemCount(q)).toBe(0);
  });

  it('enqueue --delay past the latest run time a Date holds: exit 2, one line naming the delay, nothing written', async () => {
    const { db, q } = await fresh(dialect);
    const dir = tempDir();
    const file = join(dir, 'items.ndjson');
    writeFileSync(file, '{"n":1}\n{"n":2}\n');
    const [arg, fromFile, days] = await Promise.all([
      runCli(['enqueue', 'job', '{}', '--delay', '99999999999999999999', '--db', db]),
      runCli(['enqueue', 'job', '--file', file, '--delay', '99999999999999999999', '--db', db]),
      runCli(['enqueue', 'job', '{}', '--delay', '100000000d', '--db', db]),
    ]);
    expectOneLineError(arg, 2, /delay 1(\.\d+)?e\+23 ms would run the item after \+275760-09-13T00:00:00\.000Z.*use a shorter delay/);
    expectOneLineError(fromFile, 2, /line 1: delay 1(\.\d+)?e\+23 ms would run the item after/);
    expectOneLineError(days, 2, /delay 8640000000000000 ms would run the item after/);
    expect(await itemCount(q)).toBe(0);
  });

  it('show and list an item whose stored run_at is past what a Date holds (an older version\'s row): exit 0, the time shown clamped, not null', async () => {
    const { db, q } = await fresh(dialect);
    const { id } = await q.enqueue('job', { n: 1 });
    await q.knex('signalq_items').where({ id }).update({ run_at: 1e17 });
    const [text, json, list] = await Promise.all([
      runCli(['show', String(id), '--db', db]),
      runCli(['show', String(id), '--json', '--db', db]),
      runCli(['list', '--json', '--db', db]),
    ]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^run at {4}\+275760-09-13T00:00:00\.000Z \(the latest a Date holds; the stored time may be later\)$/m);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id, runAt: '+275760-09-13T00:00:00.000Z' });
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject([{ id, runAt: '+275760-09-13T00:00:00.000Z' }]);
  });

  it('enqueue --file: a bad line 3 refuses the whole file naming line 3; a good file of 2,000 lines is all written; - reads stdin', async () => {
    const { db, q } = await fresh(dialect);
    const dir = tempDir();
    const bad = join(dir, 'bad.ndjson');
    writeFileSync(bad, '{"n":1}\n{"n":2}\n{"n":3,\n{"n":4}\n');
    expectOneLineError(await runCli(['enqueue', 'job', '--file', bad, '--db', db]), 2, /line 3\b.*not valid JSON.*nothing was enqueued/);
    expect(await itemCount(q)).toBe(0);

    const good = join(dir, 'good.ndjson');
    writeFileSync(good, Array.from({ length: 2_000 }, (_, n) => JSON.stringify({ n })).join('\n') + '\n');
    const r = await runCli(['enqueue', 'job', '--file', good, '--json', '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ inserted: 2_000, skipped: 0 });
    const ns = (await q.knex('signalq_items').select('payload').orderBy('id')).map((row: any) => JSON.parse(row.payload).n);
    expect(ns).toEqual(Array.from({ length: 2_000 }, (_, n) => n));

    const piped = await runCli(['enqueue', 'piped', '--file', '-', '--db', db], { input: '{"a":1}\n\n"text"\r\n[1,2]\n' });
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toMatch(/enqueued 3 items \(piped\) from standard input/);
    const payloads = (await q.admin.list({ type: 'piped' })).map((i) => i.payload).reverse();
    expect(payloads).toEqual([{ a: 1 }, 'text', [1, 2]]);
    expectOneLineError(await runCli(['enqueue', 'piped', '--file', '-', '--db', db], { input: '\n' }), 2, /no payloads/);
    expect(await itemCount(q)).toBe(2_003);
  });

  it('--json outputs of enqueue, process, stats, list, show and retry carry the documented fields', async () => {
    const { db, q } = await fresh(dialect);
    const cli = async (...args: string[]) => {
      const r = await runCli([...args, '--json', '--db', db]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return JSON.parse(r.stdout);
    };
    const first = await cli('enqueue', 'job', '{"n":1}', '--key', 'k1');
    expect(first).toEqual({ id: expect.any(Number), created: true });
    expect(await cli('enqueue', 'job', '{"n":1}', '--key', 'k1')).toEqual({ id: first.id, created: false });
    const failing = await q.enqueue('job', { fail: true }, { maxTrials: 3 });
    const orphan = await q.enqueue('nobody-takes-this', {});

    const summary = await cli('process', '--no-lock', '--handlers', BASIC);
    expect(summary).toMatchObject({ claimed: 2, done: 1, retry: 0, error: 1 });

    // Which types a handler takes is what the live workers recorded: one runs while stats looks.
    const worker = startCli(['work', '--handlers', BASIC, '--db', db]);
    await waitFor('the worker to register', async () => (await q.admin.workers()).length === 1, 20_000);
    const stats = await cli('stats');
    worker.child.kill('SIGTERM');
    expect((await worker.result).code).toBe(0);
    expect(Object.keys(stats.counts).sort()).toEqual([...STATUSES].sort());
    expect(stats.counts).toMatchObject({ done: 1, error: 1, pending: 1, in_progress: 0, need_retry: 0 });
    expect(stats.total).toBe(3);
    expect(stats.types).toEqual([
      { type: 'job', counts: { done: 1, error: 1 }, handlers: ['ok', 'picky'], noHandler: false },
      { type: 'nobody-takes-this', counts: { pending: 1 }, handlers: [], noHandler: true },
    ]);

    // Independent reads and refusals, two at a time.
    const two = pLimit(2);
    const [list, errors, shown, shownDone, retryDone, retryMissing, badStatus] = await Promise.all([
      two(() => cli('list')),
      two(() => cli('list', '--status', 'error')),
      two(() => cli('show', String(failing.id))),
      two(() => cli('show', String(first.id))),
      two(() => runCli(['retry', String(first.id), '--db', db])),
      two(() => runCli(['retry', '999999', '--db', db])),
      two(() => runCli(['list', '--status', 'finished', '--db', db])),
    ]);
    expect(list.map((i: any) => i.id)).toEqual([orphan.id, failing.id, first.id]); // newest first
    for (const i of list) for (const k of ['id', 'type', 'status', 'trials', 'maxTrials', 'payload', 'results', 'key', 'createdAt']) expect(i).toHaveProperty(k);
    expect(errors).toMatchObject([{ id: failing.id }]);
    expect(errors).toHaveLength(1);
    expect(shown).toMatchObject({
      id: failing.id, type: 'job', status: 'error', trials: 1, maxTrials: 3, payload: { fail: true },
      results: { ok: { ok: true, runs: 1 }, picky: { ok: false, runs: 1, error: expect.stringContaining('asked to fail') } },
    });
    expect(shownDone).toMatchObject({ status: 'done', key: 'k1', payload: { n: 1 } });
    expectOneLineError(retryDone, 2, /is done, not error/);
    expectOneLineError(retryMissing, 2, /no item with id 999999/);
    expectOneLineError(badStatus, 2, /status "finished"/);

    // retry: an error item goes back to pending with fresh trials, its results kept (only `picky` runs again).
    expect(await cli('retry', String(failing.id))).toMatchObject({ id: failing.id, status: 'pending', trials: 0, results: { ok: { ok: true } } });
  });
});

describe.each(DIALECTS)('signalq delete on %s', (dialect) => {
  it('deletes an item that is not running (text and --json); refuses a missing or in_progress one with exit 2 and one line', async () => {
    const { db, q } = await fresh(dialect);
    const typo = await q.enqueue('mial.send', { to: 'ada' });
    const other = await q.enqueue('mail.send', { to: 'grace' });
    const held = await q.enqueue('mail.send', { to: 'bob' });
    // A claim by a worker elsewhere: status, owner and lease as a claim writes them.
    const leaseUntil = Date.now() + 60_000;
    await q.knex('signalq_items').where({ id: held.id }).update({ status: 'in_progress', owner: 'worker-7:4242', lease_until: leaseUntil });

    const text = await runCli(['delete', String(typo.id), '--db', db]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toBe(`deleted item ${typo.id} (mial.send, pending)\n`);
    const json = await runCli(['delete', String(other.id), '--json', '--db', db]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: other.id, type: 'mail.send', status: 'pending', payload: { to: 'grace' } });

    const [missing, running, badId] = await Promise.all([
      runCli(['delete', String(typo.id), '--db', db]),
      runCli(['delete', String(held.id), '--json', '--db', db]),
      runCli(['delete', 'seven', '--db', db]),
    ]);
    expectOneLineError(missing, 2, new RegExp(`no item with id ${typo.id}$`, 'm'));
    expectOneLineError(running, 2, new RegExp(`item ${held.id} is in_progress, held by worker-7:4242 with a lease until ${new Date(leaseUntil).toISOString().replace(/[.]/g, '\\.')}; wait until it is settled`));
    expectOneLineError(badId, 2, /item id "seven" is invalid/);
    expect((await q.admin.list()).map((i) => i.id)).toEqual([held.id]);
  });
});

describe('signalq and SQLite paths', () => {
  it('a path whose folder does not exist: exit 2, one line naming the path and what to do, nothing created', async () => {
    const missing = join(tempDir(), 'no', 'such');
    const url = `sqlite:${missing}/x.sqlite`;
    const r = await runCli(['stats', '--db', url]);
    expectOneLineError(r, 2, new RegExp(`the folder of the SQLite database ${url.replace(/[.]/g, '\\.')} does not exist \\(${missing}\\); create it \\(mkdir -p ${missing}\\)`));
    expect(existsSync(join(missing, '..'))).toBe(false);
  });

  it('the default (no --db, no SIGNALQ_DB) still creates var/ in the working directory', async () => {
    const cwd = tempDir();
    const r = await runCli(['stats', '--json'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).total).toBe(0);
    expect(existsSync(join(cwd, 'var', 'signalq.sqlite'))).toBe(true);
  });
});

describe('signalq list and live workers', () => {
  it('names the types of waiting items that no live worker takes', async () => {
    const { db, q } = await fresh('sqlite');
    await q.enqueue('nobody-takes-this', {});
    await q.enqueue('job', { n: 1 });
    const before = await runCli(['list', '--db', db]);
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).toMatch(/^no live worker takes: job, nobody-takes-this \(their items wait/m);
    // A live worker whose handlers take `job`: only the other type is named.
    const worker = startCli(['work', '--handlers', fixtureHandlers('handlers-basic'), '--poll', '1h', '--db', db]);
    try {
      await waitFor('the worker to register', async () => (await q.admin.workers()).length === 1, 20_000);
      await q.enqueue('nobody-takes-this', { second: true });
      const after = await runCli(['list', '--status', 'pending', '--db', db]);
      expect(after.stdout).toMatch(/^no live worker takes: nobody-takes-this \(/m);
      const json = await runCli(['list', '--json', '--db', db]);
      expect(Array.isArray(JSON.parse(json.stdout))).toBe(true);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.result;
    }
  });
});
