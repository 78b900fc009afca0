/**
 * Workers register themselves (host, PID, handlers) and are woken at once by an enqueue from another queue or
 * process on the same host, rather than at their next poll.
 */
import { createSocket } from 'node:dgram';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.ts';
import { databaseUrl, freshQueue, sameDatabase } from '../helpers/queue.ts';
import { runCli } from '../processes/cli-helpers.ts';

describe.each(DIALECTS)('waking workers on %s', (dialect) => {
  it('registers a running worker and removes it on stop', async () => {
    const q = await freshQueue(dialect);
    q.connect({ name: 'h1', types: '*', handle() {} });
    const working = q.work();
    await expect.poll(async () => (await q.admin.workers()).length, { timeout: 10_000 }).toBe(1);
    const [w] = await q.admin.workers();
    expect(w).toMatchObject({ host: hostname(), pid: process.pid, handlers: ['h1'], alive: true });
    q.stop();
    await working;
    expect(await q.admin.workers()).toEqual([]);
  });

  it('work() on a closed queue is refused in one line saying what to do, and nothing is claimed', async () => {
    const q = await freshQueue(dialect);
    let runs = 0;
    q.connect({ name: 'h', types: '*', handle: () => void runs++ });
    await q.enqueue('t', {});
    const other = await sameDatabase(q);
    await q.close();
    expect(() => q.work()).toThrow(/^this queue is closed; create a new queue to work again$/);
    expect(runs).toBe(0);
    expect((await other.admin.stats()).counts.pending).toBe(1);
  });

  it('a queue that works again and again keeps one enqueue listener of its own, however many times', async () => {
    const q = await freshQueue(dialect);
    q.connect({ name: 'h', types: '*', handle() {} });
    const before = [q.signals.listenerCount('itemEnqueued'), q.signals.listenerCount('itemsEnqueued')];
    const counts = () => [q.signals.listenerCount('itemEnqueued'), q.signals.listenerCount('itemsEnqueued')];
    for (let round = 0; round < 3; round++) {
      const working = q.work();
      // While it works, the loop listens to both (an enqueue in this process wakes it).
      await expect.poll(counts, { timeout: 10_000 }).toEqual([before[0] + 1, before[1] + 1]);
      await q.enqueue('t', { round });
      await expect.poll(async () => (await q.admin.stats()).counts.done, { timeout: 10_000 }).toBe(round + 1);
      q.stop();
      await working;
    }
    expect([q.signals.listenerCount('itemEnqueued'), q.signals.listenerCount('itemsEnqueued')]).toEqual(before);
  });

  it('an enqueue through another queue object wakes an idle worker long before its next poll', async () => {
    const worker = await freshQueue(dialect, { pollIntervalMs: 60_000 });
    const producer = await sameDatabase(worker);
    const seen: number[] = [];
    worker.connect({ name: 'h', types: '*', handle: (item) => void seen.push(item.id) });
    const working = worker.work();
    await expect.poll(async () => (await worker.admin.workers()).length, { timeout: 10_000 }).toBe(1);
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
    await expect.poll(async () => (await worker.admin.workers()).length, { timeout: 10_000 }).toBe(1);
    const db = databaseUrl(worker);
    const r = await runCli(['enqueue', 't', '{"from":"cli"}', '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    await expect.poll(() => seen, { timeout: 10_000 }).toEqual([{ from: 'cli' }]);
    worker.stop();
    await working;
  });

});

describe('waking workers (MariaDB)', () => {
  it('a flood of wake datagrams costs at most a rate-limited probe each, never a claim', async () => {
    const worker = await freshQueue('mysql', { pollIntervalMs: 60_000 });
    worker.connect({ name: 'h', types: '*', handle() {} });
    const working = worker.work();
    await expect.poll(async () => (await worker.admin.workers()).length, { timeout: 10_000 }).toBe(1);
    const [{ wake_port: wakePort }] = await worker.knex('signalq_workers').select('wake_port');
    await new Promise((r) => setTimeout(r, 200)); // into its (minute-long) idle poll
    const statements: string[] = [];
    worker.knex.on('query', (q: { sql: string }) => void statements.push(q.sql));
    // Anything on the host can send datagrams: 4,000 in about a second, to an idle worker with nothing to do.
    const socket = createSocket('udp4');
    const started = Date.now();
    for (let i = 0; i < 40; i++) {
      await Promise.all(Array.from({ length: 100 }, () => new Promise((r) => socket.send('w', wakePort!, '127.0.0.1', r))));
      await new Promise((r) => setTimeout(r, 25));
    }
    const seconds = (Date.now() - started) / 1000;
    socket.close();
    const claims = statements.filter((sql) => /SKIP LOCKED/i.test(sql)).length;
    expect(claims).toBe(0);
    expect(statements.length / seconds).toBeLessThanOrEqual(600); // at most one probe per 2 ms, and the heartbeat
    // A real enqueue still wakes it at once.
    const producer = await sameDatabase(worker);
    const { id } = await producer.enqueue('t', {});
    await expect.poll(async () => (await worker.admin.get(id))?.status, { timeout: 10_000 }).toBe('done');
    worker.stop();
    await working;
  });
});
