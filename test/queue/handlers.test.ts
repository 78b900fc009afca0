/**
 * One handler's run, as odd handlers make it: a signal read only after the timeout, values thrown that cannot be
 * read, names that would break the results map. Each ends as an ordinary outcome, on SQLite and MariaDB.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HandlerTimeoutError, UsageError } from '../../src/errors.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue } from '../helpers/queue.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A thrown value whose every trap throws: reading its name, message, prototype or keys fails. */
const unreadable = () =>
  new Proxy({}, {
    get() { throw new Error('get trap'); },
    getPrototypeOf() { throw new Error('prototype trap'); },
    ownKeys() { throw new Error('keys trap'); },
    has() { throw new Error('has trap'); },
  });

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
process.on('unhandledRejection', onUnhandled);
afterEach(() => {
  expect(unhandled.splice(0)).toEqual([]);
});

describe.each(DIALECTS)('handler runs on %s', (dialect) => {
  it('ctx.signal first read after the timeout is already aborted, with the timeout as its reason', async () => {
    const q = await freshQueue(dialect);
    let seen: { aborted: boolean; reason: unknown; loops: number } | null = null;
    q.connect({
      name: 'slow',
      types: '*',
      timeoutMs: 100,
      handle: async (_item, ctx) => {
        await sleep(300);
        let loops = 0;
        while (!ctx.signal.aborted && loops < 100) {
          loops++;
          await sleep(10);
        }
        seen = { aborted: ctx.signal.aborted, reason: ctx.signal.reason, loops };
      },
    });
    const { id } = await q.enqueue('t', {});
    expect(await q.process()).toMatchObject({ retry: 1 });
    await expect.poll(() => seen, { timeout: 5000 }).not.toBeNull();
    expect(seen!.loops).toBe(0);
    expect(seen!.reason).toBeInstanceOf(HandlerTimeoutError);
    expect((await q.admin.get(id))?.results.slow.error).toMatch(/ran past its timeout of 100 ms/);
  });

  it('a thrown value that cannot be read is an ordinary failure, in process() and in work()', async () => {
    const q = await freshQueue(dialect, { maxTrials: 2 });
    q.connect({ name: 'odd', types: '*', handle: () => { throw unreadable(); } });
    q.connect({ name: 'odd-async', types: '*', handle: async () => Promise.reject(unreadable()) });
    const { id } = await q.enqueue('t', {});
    expect(await q.process()).toMatchObject({ claimed: 1, retry: 1 });
    const item = await q.admin.get(id);
    expect(item?.status).toBe('need_retry');
    expect(typeof item?.results.odd.error).toBe('string');
    expect(typeof item?.results['odd-async'].error).toBe('string');
    // The long-running form: the worker neither exits nor leaves the item in progress.
    const failed: number[] = [];
    q.on('itemError', (e) => void failed.push(e.item.id));
    const working = q.work();
    await expect.poll(() => failed, { timeout: 10_000 }).toEqual([id]);
    q.stop();
    await working;
    expect((await q.admin.get(id))?.status).toBe('error');
  });

  it('refuses handler names that would break the results map', async () => {
    const q = await freshQueue(dialect);
    for (const name of ['__proto__', 'signalq']) {
      expect(() => q.connect({ name, types: '*', handle: () => {} })).toThrow(UsageError);
      expect(() => q.connect({ name, types: '*', handle: () => {} })).toThrow(`handler name "${name}" is reserved`);
    }
    // Names that merely look like Object's own keys work as any other.
    const ran: string[] = [];
    for (const name of ['constructor', 'toString', 'hasOwnProperty']) q.connect({ name, types: '*', handle: () => void ran.push(name) });
    const { id } = await q.enqueue('t', {});
    expect(await q.process()).toMatchObject({ done: 1 });
    expect(ran.sort()).toEqual(['constructor', 'hasOwnProperty', 'toString']);
    expect(Object.keys((await q.admin.get(id))!.results).sort()).toEqual(['constructor', 'hasOwnProperty', 'toString']);
  });
});
