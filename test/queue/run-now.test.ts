/**
 * `queue.runNow(id)` (what `signalq run` uses) on SQLite and MariaDB: a queued item runs now whatever its due time,
 * recorded like any claimed item; an item that is not queued is refused and left as it was; a worker never takes
 * an item runNow holds.
 */
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue, sameDatabase } from '../helpers/queue.ts';

describe.each(DIALECTS)('runNow on %s', (dialect) => {
  it('runs a queued item now, even one not due, as a trial of its own; refuses one that is not queued', async () => {
    const q = await freshQueue(dialect);
    let release!: () => void;
    q.connect({ name: 'job', types: ['j'], handle: (item) => (item.payload === 'wait' ? new Promise<string>((r) => (release = () => r('waited'))) : 'ran') });
    const later = await q.enqueue('j', 'now', { delayMs: 3_600_000 });
    const other = await q.enqueue('j', 'untouched');
    const item = await q.runNow(later.id);
    expect(item).toMatchObject({ id: later.id, status: 'done', trials: 1, results: { job: { ok: true, value: 'ran' } } });
    expect(item.startedAt).not.toBeNull();
    expect(item.finishedAt).not.toBeNull();
    expect((await q.admin.get(other.id))!.status).toBe('pending'); // only the named item was claimed
    await expect(q.runNow(later.id)).rejects.toThrow(`item ${later.id} is not queued (it is running, finished or gone); only a pending or need_retry item can be run now`);
    await expect(q.runNow(999_999)).rejects.toThrow('item 999999 is not queued');

    // While runNow holds an item, a worker's claim does not take it.
    const held = await q.enqueue('j', 'wait');
    await q.admin.delete(other.id);
    const running = q.runNow(held.id);
    const worker = await sameDatabase(q);
    worker.connect({ name: 'job', types: ['j'], handle: () => 'worker ran it' });
    for (let i = 0; (await q.admin.get(held.id))!.startedAt === null; i++) {
      if (i > 500) throw new Error('the held item never started');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await worker.process()).toMatchObject({ claimed: 0 });
    release();
    expect((await running).results.job.value).toBe('waited');
  });
});
