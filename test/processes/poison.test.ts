/**
 * An item that kills its worker every time (SIGKILL in the handler): each trial ends with no outcome, the lease
 * runs out, and the next worker takes the item back as a failed trial, with the backoff between trials. Out of
 * trials it goes to `error`, and the worker that decides so says so on standard error, as for any failure.
 */
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.ts';
import { databaseUrl, freshQueue } from '../helpers/queue.ts';
import { fixtureHandlers, runCli, startCli } from './cli-helpers.ts';

describe.each(DIALECTS)('an item that kills its worker, on %s', (dialect) => {
  it('ends in error after its trials, reported by `signalq work` and as itemError, with the backoff between trials', async () => {
    const q = await freshQueue(dialect);
    const db = databaseUrl(q);
    const { id } = await q.enqueue('poison', { kill: true }, { maxTrials: 3 });
    const fine = await q.enqueue('poison', { kill: false });
    const args = ['--db', db, 'work', '--handlers', fixtureHandlers('handlers-poison'), '--lease', '1s', '--backoff', '1s'];
    const deaths: { lastTryAt: number; leaseUntil: number }[] = [];
    let reported = '';
    for (let worker = 0; worker < 8 && reported === ''; worker++) {
      const w = startCli(args, { killAfterMs: 20_000 });
      // It dies by the poison item, or (once the item is in error) keeps working: then stop it.
      const settled = await Promise.race([
        w.result.then(() => 'died' as const),
        expect.poll(async () => (await q.admin.get(id))?.status, { timeout: 15_000, interval: 100 }).toBe('error').then(() => 'error' as const),
      ]);
      if (settled === 'error') {
        await expect.poll(() => /item \d+ \(poison\) failed for good/.test(w.stderr()), { timeout: 5000 }).toBe(true);
        reported = w.stderr();
        w.child.kill('SIGTERM');
        await w.result;
      } else {
        const r = await w.result;
        expect(r.signal).toBe('SIGKILL');
        const item = (await q.admin.get(id))!;
        deaths.push({ lastTryAt: item.lastTryAt!.getTime(), leaseUntil: item.leaseUntil!.getTime() });
      }
    }
    expect(reported).toMatch(new RegExp(`item ${id} \\(poison\\) failed for good after 3 trial\\(s\\): signalq: its lease ran out during trial 3`));
    const item = (await q.admin.get(id))!;
    expect(item).toMatchObject({ status: 'error', trials: 3 });
    expect(item.results.signalq.error).toMatch(/lease ran out/);
    // Each trial after a death started no sooner than the backoff (1 s, jittered to at least 0.5 s) after the lease
    // of the one before ran out.
    expect(deaths.length).toBe(3);
    for (let i = 1; i < deaths.length; i++) expect(deaths[i].lastTryAt).toBeGreaterThanOrEqual(deaths[i - 1].leaseUntil + 500);
    // The item that did not kill anyone was done along the way.
    expect((await q.admin.get(fine.id))?.status).toBe('done');

    // The event, in app code: a queue that takes back such an item reports it as itemError.
    const again = await q.enqueue('poison', { kill: true }, { maxTrials: 1 });
    const killed = await runCli(args, { killAfterMs: 20_000 });
    expect(killed.signal).toBe('SIGKILL');
    const errors: number[] = [];
    q.on('itemError', (e) => void errors.push(e.item.id));
    await new Promise((r) => setTimeout(r, 1100)); // its lease runs out
    await q.process();
    expect(errors).toEqual([again.id]);
  }, 120_000);
});
