/**
 * A worker lives through the database going away: it keeps the outcomes it reached, reconnects with backoff, and
 * writes them once the database is back. The outage is made with a TCP proxy between the worker and MariaDB
 * (cutting every connection and refusing new ones), so the shared server itself is never stopped.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createQueue } from '../../src/queue/queue.ts';
import { dropCreatedDatabases, freshDatabase } from '../helpers/databases.ts';
import { CuttableProxy, throughProxy } from '../helpers/proxy.ts';

afterAll(dropCreatedDatabases);

describe('worker during a database outage (MariaDB)', () => {
  it('keeps its outcomes, reconnects with backoff, writes them once the database is back, and loses nothing', async () => {
    const url = await freshDatabase('mysql');
    const direct = await createQueue({ db: url });
    await direct.migrate();
    const proxy = new CuttableProxy();
    await proxy.up();
    const proxied = new URL(url);
    proxied.port = String(proxy.port);
    const worker = await createQueue({ db: proxied.toString(), batchSize: 100, concurrency: 10, backoffBaseMs: 0 });

    const runs = new Map<number, number>();
    let cut: Promise<void> | null = null;
    worker.connect({
      name: 'h',
      types: '*',
      handle: async (item) => {
        runs.set(item.id, (runs.get(item.id) ?? 0) + 1);
        // Halfway through, cut the database while handlers are still running.
        if (runs.size === 500 && !cut) cut = proxy.down();
      },
    });
    const errors: string[] = [];
    worker.on('databaseError', (e) => void errors.push(e.during));

    await direct.enqueueMany(Array.from({ length: 1500 }, (_, i) => ({ type: 't', payload: { i } })));
    let exited = false;
    const working = worker.work().finally(() => (exited = true));

    await expect.poll(() => cut !== null, { timeout: 30_000 }).toBe(true);
    await cut;
    await new Promise((r) => setTimeout(r, 1500)); // the database stays away for a while
    expect(exited).toBe(false);
    expect(errors.length).toBeGreaterThan(0);
    await proxy.up();

    await expect.poll(async () => (await direct.admin.stats()).counts.done, { timeout: 60_000, interval: 200 }).toBe(1500);
    worker.stop();
    await working;
    const stats = await direct.admin.stats();
    expect(stats.counts).toMatchObject({ done: 1500, pending: 0, in_progress: 0, need_retry: 0, error: 0 });
    // The claims held through the outage (lease 60 s), so no handler ran twice.
    expect(runs.size).toBe(1500);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    await worker.close();
    await direct.close();
    await proxy.down();
  });

  it('an outage longer than the lease: the item runs again, and the stale outcome never overwrites the new one', async () => {
    // The first run fails and cuts the database before its outcome is written. During the outage the lease (1 s)
    // runs out and another processor takes the item back; once the database is back the worker claims it again
    // and runs it, while its writer still holds the first outcome (retrying with backoff). Both go out in one
    // statement: only the current claim's outcome may land.
    const url = await freshDatabase('mysql');
    const direct = await createQueue({ db: url, backoffBaseMs: 0 });
    await direct.migrate();
    const proxy = new CuttableProxy();
    await proxy.up();
    const worker = await createQueue({ db: throughProxy(url, proxy), leaseMs: 1000, backoffBaseMs: 0 });
    let runs = 0;
    let cut: Promise<void> | null = null;
    worker.connect({
      name: 'h',
      types: ['t'],
      handle: async () => {
        if (++runs === 1) {
          cut = proxy.down();
          await cut;
          throw new Error('run #1 failed');
        }
      },
    });
    const { id } = await direct.enqueue('t', {});
    const working = worker.work();
    await expect.poll(() => cut !== null, { timeout: 10_000 }).toBe(true);
    await cut;
    await new Promise((r) => setTimeout(r, 1200));
    // Another processor takes the item back (a batch with no handler connected claims nothing, but expires leases).
    await direct.process();
    expect((await direct.admin.get(id))?.status).toBe('need_retry');
    await new Promise((r) => setTimeout(r, 500));
    await proxy.up();
    // Wake the worker out of its backoff (an enqueue on this host sends it a datagram), so it claims the item
    // again well before its writer's next try (about 3 s after the cut).
    await direct.enqueue('wake', {});
    await expect.poll(() => runs, { timeout: 10_000, interval: 20 }).toBe(2);
    await expect.poll(async () => (await direct.admin.get(id))?.status, { timeout: 30_000, interval: 100 }).toBe('done');
    // Give a stale write every chance to land (the writer retries with backoff up to 5 s apart).
    await new Promise((r) => setTimeout(r, 6000));
    const item = await direct.admin.get(id);
    expect(item).toMatchObject({ status: 'done', results: { h: { ok: true } } });
    expect(runs).toBe(2);
    worker.stop();
    await working;
    await worker.close();
    await direct.close();
    await proxy.down();
  }, 60_000);
});
