/**
 * A migrated queue on a fresh database, closed after the test.
 */
import { afterAll, afterEach } from 'vitest';
import { createQueue, type Queue } from '../../src/queue/queue.ts';
import type { QueueOptions } from '../../src/config.ts';
import { dropCreatedDatabases, freshDatabase, type Dialect } from './databases.ts';

const open: Queue<any>[] = [];

afterEach(async () => {
  for (const q of open.splice(0)) {
    q.stop();
    await q.close().catch(() => {});
  }
});
afterAll(dropCreatedDatabases);

/** Closes `q` after the current test (for queues a test opens itself). Returns `q`. */
export function closeAfterTest<Q extends Queue<any>>(q: Q): Q {
  open.push(q);
  return q;
}

/** A migrated queue on a fresh database; tests default to fast retries (no backoff wait). */
export async function freshQueue<T extends Record<string, unknown> = Record<string, any>>(
  dialect: Dialect,
  options: QueueOptions = {},
  database: Parameters<typeof freshDatabase>[1] = {},
): Promise<Queue<T>> {
  const db = await freshDatabase(dialect, database);
  const q = await createQueue<T>({ backoffBaseMs: 0, ...options, db });
  open.push(q);
  await q.migrate();
  return q;
}

/** The URL of `q`'s database, for a command or another queue to open. */
export function databaseUrl(q: Queue<any>): string {
  return q.target.dialect === 'mysql' ? q.target.url : `sqlite:${q.target.filename}`;
}

/**
 * A migrated queue with the queue's own defaults on a fresh database, and that database's URL: for tests that run
 * `signalq` commands on it and set up or inspect through the queue.
 */
export async function freshCommandDatabase(dialect: Dialect): Promise<{ db: string; q: Queue }> {
  const q = await freshQueue(dialect, { backoffBaseMs: undefined });
  return { db: databaseUrl(q), q };
}

/** Another queue on the same database as `q` (a second processor). */
export async function sameDatabase<T extends Record<string, unknown>>(q: Queue<any>, options: QueueOptions = {}): Promise<Queue<T>> {
  const other = await createQueue<T>({ backoffBaseMs: 0, ...options, db: databaseUrl(q) });
  open.push(other);
  return other;
}
