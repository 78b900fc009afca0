/**
 * Isolated handlers on SQLite and MariaDB: each run happens in a child process, so a handler that ignores its
 * signal is killed after a cancel (the item ends canceled) or a timeout (a failed trial naming the kill), a crash
 * fails only that run, and the same worker goes on; the child's progress, history, summary, result and ctx.knex
 * writes reach the database.
 */
import { describe, expect, it } from 'vitest';
import { loadHandlers } from '../../src/queue/load-handlers.ts';
import { validateHandler } from '../../src/queue/handlers.ts';
import type { Queue } from '../../src/queue/queue.ts';
import type { QueueOptions } from '../../src/config.ts';
import { DIALECTS, type Dialect } from '../helpers/databases.ts';
import { until } from '../helpers/until.ts';
import { freshQueue, sameDatabase } from '../helpers/queue.ts';
import { fixtureHandlers } from '../processes/cli-helpers.ts';

/** A queue with the isolated fixtures and one ordinary handler (`plain`), and the fixtures' `effects` table. */
async function isolatedQueue(dialect: Dialect, options: QueueOptions = {}): Promise<Queue> {
  const q = await freshQueue(dialect, { progressFlushMs: 50, ...options });
  await q.knex.schema.createTable('effects', (t) => {
    t.increments('id');
    t.integer('item_id').notNullable();
    t.string('handler', 20).notNullable();
  });
  for (const h of await loadHandlers(fixtureHandlers('handlers-isolated'))) q.connect(h);
  q.connect({ name: 'plain', types: ['plain'], handle: () => 'plain ran' });
  return q;
}

/** The worker goes on: an ordinary item enqueued after the isolated one is done by the same queue. */
async function plainItemRuns(q: Queue): Promise<void> {
  const { id } = await q.enqueue('plain', {});
  expect(await q.process()).toMatchObject({ claimed: 1, done: 1 });
  expect((await q.admin.get(id))!.results.plain).toMatchObject({ ok: true, value: 'plain ran' });
}

describe('isolated handler declarations', () => {
  it('refuses an isolated handler with no module to load, and records the file of one loaded from a folder', async () => {
    expect(() => validateHandler({ name: 'x', types: ['t'], isolated: true, handle() {} })).toThrow(
      'handler "x" is isolated but names no module to load in its process; give module: import.meta.url (handlers loaded from a folder have it)',
    );
    const [ignore] = await loadHandlers(fixtureHandlers('handlers-isolated'));
    expect(ignore.module).toMatch(/^file:.*handlers-isolated\/isolated\.mjs$/);
  });
});

describe.each(DIALECTS)('isolated handlers on %s', (dialect) => {
  it('kills a handler that ignores its cancel: the item ends canceled and the worker goes on', async () => {
    const q = await isolatedQueue(dialect);
    const { id } = await q.enqueue('iso.ignore', {});
    const processing = q.process();
    const other = await sameDatabase(q);
    // Its progress, reported in the child, is in the database: the run has started in its process.
    await until(async () => (await other.admin.get(id))?.progress?.done === 1, 'the child reporting progress');
    expect(await other.cancel(id, 'ops')).toMatchObject({ outcome: 'requested' });
    expect(await processing).toMatchObject({ claimed: 1, canceled: 1, error: 0, retry: 0 });
    const item = (await other.admin.get(id))!;
    expect(item).toMatchObject({ status: 'canceled', progress: { done: 1, size: 10, message: 'started, and deaf to cancel' } });
    expect(item.results.ignore.error).toMatch(/canceled; it ignored its signal and its process was killed after 300 ms/);
    expect((await other.admin.history(id)).map((h) => h.status)).toEqual(['cancel-requested', 'canceled']);
    await plainItemRuns(q);
  });

  it('kills a handler that ignores its timeout: a failed trial naming the kill, retried, then error', async () => {
    const q = await isolatedQueue(dialect, { handlerTimeoutMs: 500 });
    const { id } = await q.enqueue('iso.ignore', {}, { maxTrials: 2 });
    expect(await q.process()).toMatchObject({ claimed: 1, retry: 1 });
    const retried = (await q.admin.get(id))!;
    expect(retried.status).toBe('need_retry');
    expect(retried.results.ignore.error).toBe('handler "ignore" ran past its timeout of 500 ms; it ignored its signal and its process was killed after 300 ms');
    expect(await q.process()).toMatchObject({ claimed: 1, error: 1 });
    expect((await q.admin.get(id))!).toMatchObject({ status: 'error', trials: 2 });
    await plainItemRuns(q);
  });

  it("brings the child's progress, history, summary, warning, result and knex writes to the database", async () => {
    const q = await isolatedQueue(dialect);
    const { id } = await q.enqueue('iso.report', {});
    expect(await q.process()).toMatchObject({ claimed: 1, done: 1 });
    const item = (await q.admin.get(id))!;
    expect(item).toMatchObject({ status: 'done', summary: '500 rows', progress: { done: 500, size: 500, percent: 100, message: 'row 500' } });
    expect(item.startedAt).not.toBeNull();
    const result = item.results.report;
    expect(result).toMatchObject({ ok: true, warning: 'one warning', value: { rows: 500, attempt: 1, key: `${id}:report` } });
    expect((result.value as { pid: number }).pid).not.toBe(process.pid);
    const history = await q.admin.history(id);
    expect(history.map((h) => [h.subject, h.status, h.handler])).toEqual([100, 200, 300, 400, 500].map((n) => [`row-${n}`, 'checked', 'report']));
    expect(await q.knex('effects').where({ item_id: id }).count({ c: '*' })).toMatchObject([{ c: 1 }]);
  });

  it('fails only the run whose process crashes, and carries a permanent failure across', async () => {
    const q = await isolatedQueue(dialect);
    const crash = await q.enqueue('iso.crash', {}, { maxTrials: 1 });
    const fail = await q.enqueue('iso.fail', {}, { maxTrials: 5 });
    expect(await q.process()).toMatchObject({ claimed: 2, error: 2 });
    const crashed = (await q.admin.get(crash.id))!;
    expect(crashed.results.crash.error).toBe('handler "crash"\'s process exited with code 3 before the run finished');
    expect((await q.admin.history(crash.id)).map((h) => h.comment)).toEqual(['about to crash']);
    expect((await q.admin.get(fail.id))!).toMatchObject({ status: 'error', trials: 1, results: { fail: { error: 'the file is gone' } } });
    await plainItemRuns(q);
  });
});
