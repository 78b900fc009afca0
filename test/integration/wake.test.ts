/**
 * Workers register themselves (host, PID, handlers) and are woken at once by an enqueue from another queue or
 * process on the same host, rather than at their next poll.
 */
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue, sameDatabase } from '../helpers/queue.ts';
import { runCli } from '../processes/cli-helpers.ts';

describe.each(DIALECTS)('waking workers on %s', (dialect) => {
  it('registers a running worker and removes it on stop', async () => {
    const q = await freshQueue(dialect);
    q.connect({ name: 'h1', types: '*', handle() {} });
    const working = q.work();
    await expect.poll(async () => (await q.inspect.workers()).length, { timeout: 10_000 }).toBe(1);
    const [w] = await q.inspect.workers();
    expect(w).toMatchObject({ host: hostname(), pid: process.pid, handlers: ['h1'], alive: true });
    q.stop();
    await working;
    expect(await q.inspect.workers()).toEqual([]);
  });

  it('an enqueue through another queue object wakes an idle worker long before its next poll', async () => {
    const worker = await freshQueue(dialect, { pollIntervalMs: 60_000 });
    const producer = await sameDatabase(worker);
    const seen: number[] = [];
    worker.connect({ name: 'h', types: '*', handle: (item) => void seen.push(item.id) });
    const working = worker.work();
    await expect.poll(async () => (await worker.inspect.workers()).length, { timeout: 10_000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 200)); // into its (minute-long) idle poll
    const { id } = await producer.enqueue('t', {});
    await expect.poll(() => seen, { timeout: 10_000 }).toEqual([id]);
    const many = await producer.enqueueMany([{ type: 't', payload: 1 }, { type: 't', payload: 2 }]);
    expect(many.inserted).toBe(2);
    await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(3);
    worker.stop();
    await working;
  });

  it('an enqueue from another process (the CLI) wakes it too', async () => {
    const worker = await freshQueue(dialect, { pollIntervalMs: 60_000 });
    const seen: unknown[] = [];
    worker.connect({ name: 'h', types: '*', handle: (item) => void seen.push(item.payload) });
    const working = worker.work();
    await expect.poll(async () => (await worker.inspect.workers()).length, { timeout: 10_000 }).toBe(1);
    const db = worker.target.dialect === 'mysql' ? worker.target.url : `sqlite:${worker.target.filename}`;
    const r = await runCli(['enqueue', 't', '{"from":"cli"}', '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    await expect.poll(() => seen, { timeout: 10_000 }).toEqual([{ from: 'cli' }]);
    worker.stop();
    await working;
  });
});
