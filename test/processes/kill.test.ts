/**
 * A `signalq work` process stopped hard (SIGKILL mid-batch) or gracefully (SIGTERM): nothing is lost, and what
 * had finished is not run again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import type { Queue } from '../../src/queue/queue.ts';
import { DIALECTS, type Dialect } from '../helpers/databases.ts';
import { databaseWithEffects, fixtureHandlers, hasStackTrace, runCli, sleep, startCli, waitFor, type RunningCli } from './cli-helpers.ts';

const running: RunningCli[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

const SLOW = fixtureHandlers('handlers-slow');

/** A migrated database with the slow handler's `effects` table, and `n` items of type `slow`. */
async function setUp(dialect: Dialect, n: number): Promise<{ db: string; q: Queue; knex: Knex }> {
  const { db, q } = await databaseWithEffects(dialect, { phase: true });
  await q.enqueueMany(Array.from({ length: n }, (_, i) => ({ type: 'slow', payload: { n: i } })));
  return { db, q, knex: q.knex };
}

async function statusCounts(knex: Knex): Promise<Record<string, number>> {
  const rows = await knex('signalq_items').select('status').count({ c: '*' }).groupBy('status');
  return Object.fromEntries(rows.map((r: any) => [r.status, Number(r.c)]));
}

async function idsWithStatus(knex: Knex, status: string): Promise<number[]> {
  return (await knex('signalq_items').select('id').where({ status }).orderBy('id')).map((r: any) => Number(r.id));
}

/** item id -> how many rows of this phase the handler recorded for it. */
async function effectCounts(knex: Knex, phase: 'start' | 'end'): Promise<Map<number, number>> {
  const rows = await knex('effects').select('item_id').count({ c: '*' }).where({ phase }).groupBy('item_id');
  return new Map(rows.map((r: any) => [Number(r.item_id), Number(r.c)]));
}

describe.each(DIALECTS)('stopping a worker on %s', (dialect) => {
  it('SIGKILL while one handler of an item still runs: the handler that succeeded does not run again', async () => {
    const ITEMS = 6;
    const { db, q } = await databaseWithEffects(dialect, { phase: true });
    const knex = q.knex;
    await q.enqueueMany(Array.from({ length: ITEMS }, (_, i) => ({ type: 'pair', payload: { i } })));
    const marker = join(mkdtempSync(join(tmpdir(), 'signalq-stuck-')), 'stuck');
    writeFileSync(marker, '');
    const worker = startCli(['work', '--lease', '2s', '--handlers', fixtureHandlers('handlers-partial'), '--db', db], {
      env: { STUCK_UNTIL_GONE: marker },
    });
    running.push(worker);
    // `quick` succeeded on every item and that is in the database, while `stuck` holds every item in progress.
    await waitFor('quick recorded as succeeded on every item still in progress', async () => {
      const rows = await knex('signalq_items').select('status', 'results');
      return rows.length === ITEMS && rows.every((r: any) => r.status === 'in_progress' && JSON.parse(r.results).quick?.ok === true);
    });
    worker.child.kill('SIGKILL');
    await worker.result;
    rmSync(marker);

    await sleep(2_500); // the dead worker's lease runs out
    // Taking the items back counts a failed trial, with the backoff (here none) before the next.
    const r = await runCli(['process', '--until-empty', '--no-lock', '--backoff', '0', '--handlers', fixtureHandlers('handlers-partial'), '--db', db], { killAfterMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(await statusCounts(knex)).toEqual({ done: ITEMS });
    const runs = await knex('effects').select('handler').count({ c: '*' }).groupBy('handler');
    expect(Object.fromEntries(runs.map((x: any) => [x.handler, Number(x.c)]))).toEqual({ quick: ITEMS, stuck: ITEMS });
  });

  it('SIGKILL mid-batch loses nothing: after the lease the items are taken back, and done items do not run again', async () => {
    const ITEMS = 40;
    const { db, q, knex } = await setUp(dialect, ITEMS);
    const worker = startCli(['work', '--lease', '2s', '--limit', '10', '--concurrency', '2', '--handlers', SLOW, '--db', db], {
      env: { SLOW_HANDLER_MS: '200' },
    });
    running.push(worker);
    await waitFor('some items done and some in progress', async () => {
      const c = await statusCounts(knex);
      return (c.done ?? 0) >= 4 && (c.in_progress ?? 0) >= 1;
    });
    worker.child.kill('SIGKILL');
    const killed = await worker.result;
    expect(killed.signal).toBe('SIGKILL');

    // The dead worker's state, as it left it.
    const doneBefore = await idsWithStatus(knex, 'done');
    const heldBefore = await knex('signalq_items').select('id', 'trials', 'lease_until').where({ status: 'in_progress' });
    expect(doneBefore.length).toBeGreaterThan(0);
    expect(heldBefore.length).toBeGreaterThan(0);
    expect(doneBefore.length).toBeLessThan(ITEMS);

    // Once the dead worker's lease has run out, a batch takes its items back.
    const leaseEnd = Math.max(...heldBefore.map((r: any) => Number(r.lease_until)));
    await waitFor('the dead worker\'s lease to run out', () => Date.now() > leaseEnd + 250, 10_000);
    const r = await runCli(['process', '--until-empty', '--no-lock', '--lease', '2s', '--backoff', '0', '--json', '--concurrency', '10', '--handlers', SLOW, '--db', db], {
      env: { SLOW_HANDLER_MS: '200' },
    });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ claimed: ITEMS - doneBefore.length, done: ITEMS - doneBefore.length, retry: 0, error: 0, lost: 0 });

    expect(await statusCounts(knex)).toEqual({ done: ITEMS });
    const starts = await effectCounts(knex, 'start');
    const ends = await effectCounts(knex, 'end');
    // None lost: every item's handler finished at least once (at-least-once: an item whose handler finished but
    // whose outcome was not yet written when the worker died may have run twice).
    for (const item of await q.admin.list({ limit: ITEMS })) {
      expect(ends.get(item.id) ?? 0, `item ${item.id}`).toBeGreaterThanOrEqual(1);
      expect(item.results.slow).toMatchObject({ ok: true });
    }
    // Durable outcomes are final: an item done before the kill never ran again.
    for (const id of doneBefore) {
      expect({ id, starts: starts.get(id), ends: ends.get(id) }).toEqual({ id, starts: 1, ends: 1 });
    }
    // The items the dead worker held count the lost trial.
    for (const h of heldBefore) {
      const item = await q.admin.get(Number(h.id));
      expect(item?.trials, `item ${h.id}`).toBe(Number(h.trials) + 2);
    }
  }, 60_000);

  it('SIGTERM: the running handler finishes, unstarted claimed items go back to pending with no trial, exit 0', async () => {
    const ITEMS = 20;
    const { db, q, knex } = await setUp(dialect, ITEMS);
    const worker = startCli(['work', '--limit', '10', '--concurrency', '2', '--handlers', SLOW, '--db', db], {
      env: { SLOW_HANDLER_MS: '1500' },
    });
    running.push(worker);
    await waitFor('the worker to start', () => worker.stderr().includes('working on'));
    await waitFor('a handler to be running', async () => (await effectCounts(knex, 'start')).size > 0);
    worker.child.kill('SIGTERM');
    const r = await worker.result;
    expect(r.stderr).toMatch(/SIGTERM/);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(r.code, r.stderr).toBe(0);

    const starts = await effectCounts(knex, 'start');
    const ends = await effectCounts(knex, 'end');
    // Every handler that started finished, once, and its item is done after one trial.
    expect([...ends.entries()].sort()).toEqual([...starts.entries()].sort());
    expect([...starts.values()].every((c) => c === 1)).toBe(true);
    const items = await q.admin.list({ limit: ITEMS });
    for (const item of items.filter((i) => starts.has(i.id))) expect(item).toMatchObject({ status: 'done', trials: 1 });
    // Everything else is pending with no trial counted, no results, no holder; the first batch's unstarted
    // items (claimed, so stamped with a last try) were handed back too.
    const rest = items.filter((i) => !starts.has(i.id));
    expect(rest.length).toBe(ITEMS - starts.size);
    for (const item of rest) expect(item).toMatchObject({ status: 'pending', trials: 0, results: {}, owner: null, leaseUntil: null });
    expect(rest.filter((i) => i.lastTryAt !== null).length).toBe(10 - starts.size);
    expect(await statusCounts(knex)).toEqual({ done: starts.size, pending: ITEMS - starts.size });
    // And they run later as if nothing happened.
    const again = await runCli(['process', '--until-empty', '--no-lock', '--json', '--concurrency', '20', '--handlers', SLOW, '--db', db], { env: { SLOW_HANDLER_MS: '10' } });
    expect(again.code, again.stderr).toBe(0);
    expect(await statusCounts(knex)).toEqual({ done: ITEMS });
    for (const item of await q.admin.list({ limit: ITEMS })) expect(item.trials).toBe(1);
  }, 60_000);

  it('SIGINT stops `process --until-empty` the same way: running handlers finish, the rest is handed back, exit 0', async () => {
    const ITEMS = 20;
    const { db, q, knex } = await setUp(dialect, ITEMS);
    const batch = startCli(['process', '--until-empty', '--no-lock', '--json', '--limit', '10', '--concurrency', '2', '--handlers', SLOW, '--db', db], {
      env: { SLOW_HANDLER_MS: '1500' },
    });
    running.push(batch);
    await waitFor('a handler to be running', async () => (await effectCounts(knex, 'start')).size > 0);
    batch.child.kill('SIGINT');
    const r = await batch.result;
    expect(r.code, r.stderr).toBe(0);
    const starts = await effectCounts(knex, 'start');
    const ends = await effectCounts(knex, 'end');
    expect([...ends.entries()].sort()).toEqual([...starts.entries()].sort());
    // One batch of 10 was claimed; what had not started went back, and no further batch was claimed.
    expect(JSON.parse(r.stdout)).toMatchObject({ batches: 1, claimed: 10, done: starts.size, handedBack: 10 - starts.size, retry: 0, error: 0 });
    expect(await statusCounts(knex)).toEqual({ done: starts.size, pending: ITEMS - starts.size });
    for (const item of await q.admin.list({ status: 'pending', limit: ITEMS })) expect(item.trials).toBe(0);
  }, 60_000);
});
