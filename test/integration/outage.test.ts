/**
 * A worker lives through the database going away: it keeps the outcomes it reached, reconnects with backoff, and
 * writes them once the database is back. The outage is made with a TCP proxy between the worker and MariaDB
 * (cutting every connection and refusing new ones), so the shared server itself is never stopped.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createQueue } from '../../src/queue/queue.ts';
import { dropCreatedDatabases, freshDatabase, MYSQL_URL } from '../helpers/databases.ts';

afterAll(dropCreatedDatabases);

/** A TCP proxy to MariaDB that can be cut (every connection dropped, new ones refused) and restored. */
class CuttableProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async up(): Promise<void> {
    const target = new URL(MYSQL_URL);
    this.server = createServer((client) => {
      const upstream = connect(Number(target.port || 3306), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

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

    await expect.poll(async () => (await direct.inspect.stats()).counts.done, { timeout: 60_000, interval: 200 }).toBe(1500);
    worker.stop();
    await working;
    const stats = await direct.inspect.stats();
    expect(stats.counts).toMatchObject({ done: 1500, pending: 0, in_progress: 0, need_retry: 0, error: 0 });
    // The claims held through the outage (lease 60 s), so no handler ran twice.
    expect(runs.size).toBe(1500);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    await worker.close();
    await direct.close();
    await proxy.down();
  });
});
