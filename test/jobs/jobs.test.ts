/**
 * Long-running jobs on SQLite and MariaDB: declared parameters refused field by field with nothing written,
 * progress visible from another connection while the job runs, history in order with subjects, results hidden
 * until the job is finished, invokers kept apart, assigned and started distinct, cancel of queued and running
 * jobs, and delete taking the history with the item.
 */
import { describe, expect, it } from 'vitest';
import { Type, defineJob } from '../../src/index.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { until } from '../helpers/until.ts';
import { freshQueue, sameDatabase } from '../helpers/queue.ts';

const importJob = (handle: Parameters<typeof defineJob>[0]['handle'] = () => 'ok') =>
  defineJob({
    name: 'importer',
    type: 'import',
    help: 'Imports records',
    params: Type.Object({
      file: Type.String({ minLength: 1, description: 'file to import' }),
      limit: Type.Integer({ minimum: 1, default: 100 }),
      dryRun: Type.Boolean({ default: false }),
      mode: Type.Union([Type.Literal('append'), Type.Literal('replace')], { default: 'append' }),
    }),
    handle: handle as any,
  });

describe.each(DIALECTS)('jobs on %s', (dialect) => {
  it('refuses a bad parameter of each kind, naming every field, and writes nothing; fills in defaults', async () => {
    const q = await freshQueue(dialect);
    q.connect(importJob());
    await expect(q.enqueue('import', { limit: 'ten', dryRun: 'yes', mode: 'merge' })).rejects.toThrow(
      /payload of import is invalid: .*file is required.*limit must be integer \(got "ten"\).*dryRun must be boolean \(got "yes"\).*mode/,
    );
    await expect(q.enqueue('import', { file: '', limit: 0 })).rejects.toThrow(/file must NOT have fewer than 1 characters.*limit must be >= 1/);
    await expect(q.enqueueMany([{ type: 'import', payload: { file: 'a.csv' } }, { type: 'import', payload: {} }])).rejects.toThrow(/item 1: payload of import is invalid: file is required/);
    expect((await q.admin.stats()).total).toBe(0);
    const { id } = await q.enqueue('import', { file: 'a.csv' });
    expect((await q.admin.get(id))!.payload).toEqual({ file: 'a.csv', limit: 100, dryRun: false, mode: 'append' });
  });

  it('checks payloads against the declarations live workers recorded, with no handler connected here', async () => {
    const worker = await freshQueue(dialect, { pollIntervalMs: 50 });
    worker.connect(importJob());
    const working = worker.work();
    const cli = await sameDatabase(worker);
    await until(async () => (await cli.admin.types()).find((t) => t.type === 'import' && t.live), 'the worker recording its types', 15_000);
    const types = await cli.admin.types();
    expect(types.find((t) => t.type === 'import')).toMatchObject({ help: 'Imports records', handlers: ['importer'], live: true });
    await expect(cli.enqueue('import', { file: 5 })).rejects.toThrow(/file must be string \(got 5\)/);
    worker.stop();
    await working;
  });

  it('shows progress from another connection while the job runs, coalesced, and its history in order', async () => {
    const q = await freshQueue(dialect, { progressFlushMs: 50 });
    let go!: () => void;
    const gate = new Promise<void>((r) => (go = r));
    q.connect(importJob(async (item, ctx) => {
      for (let i = 1; i <= 1000; i++) {
        ctx.progress(i, 1000, `record ${i}`);
        if (i % 250 === 0) ctx.history({ subject: `row-${i}`, status: 'rejected', comment: `row ${i} has no email` });
        if (i === 500) await gate;
      }
      ctx.summary('1000 records, 4 rejected');
      return { imported: 996 };
    }));
    const { id } = await q.enqueue('import', { file: 'a.csv' }, { invoker: 'ada', scope: 'acme' });
    const processing = q.process();
    const other = await sameDatabase(q);
    const mid = await until(async () => {
      const item = await other.admin.get(id);
      // Progress and history go in one flush, progress first: wait for both.
      return item?.progress?.done === 500 && (await other.admin.history(id)).length === 2 ? item : undefined;
    }, 'progress 500 visible', 15_000);
    expect(mid.progress).toEqual({ done: 500, size: 1000, percent: 50, message: 'record 500' });
    expect(mid.status).toBe('in_progress');
    expect(mid.startedAt).not.toBeNull();
    expect(await other.admin.history(id)).toMatchObject([{ subject: 'row-250' }, { subject: 'row-500' }]);
    go();
    await processing;
    const done = await other.admin.get(id);
    expect(done).toMatchObject({ status: 'done', summary: '1000 records, 4 rejected', progress: { done: 1000, percent: 100 } });
    expect(done!.results.importer.value).toEqual({ imported: 996 });
    const history = await other.admin.history(id);
    expect(history.map((h) => [h.subject, h.status, h.handler])).toEqual([
      ['row-250', 'rejected', 'importer'], ['row-500', 'rejected', 'importer'], ['row-750', 'rejected', 'importer'], ['row-1000', 'rejected', 'importer'],
    ]);
  });

  it('coalesces progress: a job reporting each of 20,000 records writes its progress a few times, not per record', async () => {
    const q = await freshQueue(dialect, { progressFlushMs: 100 });
    let progressWrites = 0;
    q.knex.on('query', (e: { sql: string }) => void (/progress_done/.test(e.sql) && progressWrites++));
    q.connect({
      name: 'busy', types: ['j'],
      handle: async (_item, ctx) => {
        for (let i = 1; i <= 20_000; i++) {
          ctx.progress(i, 20_000);
          if (i % 2_000 === 0) await new Promise((r) => setTimeout(r, 30)); // the job takes a few flush periods
        }
      },
    });
    const { id } = await q.enqueue('j', {});
    await q.process();
    expect((await q.admin.get(id))!.progress).toMatchObject({ done: 20_000, size: 20_000, percent: 100 });
    expect(progressWrites).toBeGreaterThanOrEqual(1);
    expect(progressWrites).toBeLessThan(50);
  });

  it('hides results until the job is finished, and shows a job only to its invoker', async () => {
    const q = await freshQueue(dialect);
    let release!: () => void;
    q.connect({ name: 'a', types: ['j'], handle: () => 'first' });
    q.connect({ name: 'b', types: ['j'], handle: () => new Promise((r) => (release = () => r('second'))) });
    const { id } = await q.enqueue('j', {}, { invoker: 'ada' });
    const processing = q.process();
    const other = await sameDatabase(q);
    // a succeeded and its result was written as a partial result, while b still runs: not shown yet.
    const running = await until(async () => {
      const item = await other.admin.get(id);
      return item?.results.a?.ok ? item : undefined;
    }, 'the partial result', 15_000);
    expect(running.results.a).not.toHaveProperty('value');
    release();
    await processing;
    expect((await other.admin.get(id))!.results).toMatchObject({ a: { value: 'first' }, b: { value: 'second' } });
    expect(await other.job(id, { invoker: 'ada' })).toMatchObject({ id, invoker: 'ada' });
    expect(await other.job(id, { invoker: 'bob' })).toBeUndefined();
    expect(await other.job(id, {})).toBeUndefined();
    expect(await other.job(id, { asAdmin: true })).toMatchObject({ id });
    expect((await other.admin.list({ invoker: 'ada' })).map((i) => i.id)).toEqual([id]);
    expect(await other.admin.list({ invoker: 'bob' })).toEqual([]);
  });

  it('shows an item waiting for a free slot as assigned, not started', async () => {
    const q = await freshQueue(dialect, { concurrency: 1, progressFlushMs: 50 });
    let release!: () => void;
    q.connect({ name: 'slow', types: ['j'], handle: () => new Promise<void>((r) => (release = r)) });
    const first = await q.enqueue('j', { n: 1 });
    const second = await q.enqueue('j', { n: 2 });
    const processing = q.process();
    const other = await sameDatabase(q);
    const [a, b] = await until(async () => {
      const a = await other.admin.get(first.id);
      const b = await other.admin.get(second.id);
      return a?.startedAt && b?.status === 'in_progress' ? [a, b] : undefined;
    }, 'the first item started', 15_000);
    expect(a.lastTryAt).not.toBeNull();
    expect(b).toMatchObject({ status: 'in_progress', startedAt: null });
    expect(b.lastTryAt).not.toBeNull();
    expect(b.owner).toBe(q.options.owner);
    release();
    await until(async () => (await other.admin.get(second.id))?.startedAt, 'the second item started', 15_000);
    release();
    await processing;
  });

  it('cancels a queued item at once, a running one within two seconds, and refuses a finished one', async () => {
    const q = await freshQueue(dialect);
    let aborted: unknown;
    q.connect({
      name: 'long', types: ['j'],
      handle: (_item, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject((aborted = ctx.signal.reason)))),
    });
    const queued = await q.enqueue('j', { n: 1 }, { delayMs: 60_000 });
    expect(await q.cancel(queued.id, 'ops')).toMatchObject({ outcome: 'canceled', item: { status: 'canceled' } });
    const running = await q.enqueue('j', { n: 2 });
    const processing = q.process();
    const other = await sameDatabase(q);
    await until(async () => (await other.admin.get(running.id))?.startedAt, 'the job started', 15_000);
    const asked = Date.now();
    expect(await other.cancel(running.id, 'ops')).toMatchObject({ outcome: 'requested' });
    const summary = await processing;
    // A safety bound, far from the two-second goal, for a loaded machine; the figure is in the closing note.
    expect(Date.now() - asked).toBeLessThan(10_000);
    expect(summary).toMatchObject({ canceled: 1, error: 0, retry: 0 });
    expect(String(aborted)).toMatch(/canceled/);
    const item = await other.admin.get(running.id);
    expect(item).toMatchObject({ status: 'canceled', trials: 1 });
    expect((await other.admin.history(running.id)).map((h) => h.status)).toEqual(['cancel-requested', 'canceled']);
    expect((await other.admin.history(queued.id)).map((h) => h.status)).toEqual(['canceled']);
    await expect(other.cancel(running.id)).rejects.toThrow(`item ${running.id} is canceled, finished; only a queued or running item can be canceled`);
    // Nothing runs it again.
    expect(await q.process()).toMatchObject({ claimed: 0 });
    // delete takes its history with it.
    await other.admin.delete(running.id);
    expect(await other.admin.history(running.id)).toEqual([]);
  });

  it('a run that fails on its own just as its cancel is requested ends canceled, not retried', async () => {
    const q = await freshQueue(dialect, { backoffBaseMs: 10, backoffMaxMs: 10, pollIntervalMs: 20 });
    let runs = 0;
    q.connect({
      name: 'flaky',
      types: ['j'],
      async handle(item) {
        runs++;
        // The request lands while the run is still going (before the worker's cancel watcher looks), and the run
        // then fails by itself.
        expect((await q.cancel(item.id, 'ops')).outcome).toBe('requested');
        throw new Error('failed by itself');
      },
    });
    const { id } = await q.enqueue('j', {});
    const totals = await q.work({ untilEmpty: true });
    expect(runs).toBe(1);
    expect(totals).toMatchObject({ retry: 0, canceled: 1 });
    const item = (await q.admin.get(id))!;
    expect(item).toMatchObject({ status: 'canceled', cancelRequested: false, trials: 1 });
    expect(item.results.flaky).toMatchObject({ ok: false, error: 'failed by itself' });
    expect((await q.admin.history(id)).map((h) => h.status)).toEqual(['cancel-requested', 'canceled']);
  });

  it('an item claimed with a cancel request still on it (one that landed as its last trial was settled) ends canceled without running', async () => {
    const q = await freshQueue(dialect);
    let runs = 0;
    q.connect({ name: 'h', types: ['j'], handle: () => void runs++ });
    const { id } = await q.enqueue('j', {});
    // What that race leaves: a retry with the request on it.
    await q.knex('signalq_items').update({ status: 'need_retry', trials: 1, cancel_requested: 1 }).where({ id });
    const totals = await q.work({ untilEmpty: true });
    expect(runs).toBe(0);
    expect(totals).toMatchObject({ canceled: 1, done: 0 });
    expect(await q.admin.get(id)).toMatchObject({ status: 'canceled', cancelRequested: false });
    expect((await q.admin.history(id)).map((h) => h.status)).toEqual(['canceled']);
  });
});
