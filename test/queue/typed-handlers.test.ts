/**
 * Handlers typed by the item map at run time, on SQLite and MySQL/MariaDB: `queue.handle` for one type, several
 * and '*', `defineHandlers` for handler modules, `queue.item` for enqueueMany, and the events carrying the items.
 * (What must not compile is asserted by test/types.)
 */
import { describe, expect, it } from 'vitest';
import { defineHandlers } from '../../src/queue/typed-handlers.ts';
import type { TypedEnqueueItem } from '../../src/queue/queue.ts';
import { UsageError } from '../../src/errors.ts';
import type { Item } from '../../src/types.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue } from '../helpers/queue.ts';

type Items = {
  'mail.send': { to: string; subject: string };
  audit: { action: string; actor: string };
  fax: { number: string };
};

describe.each(DIALECTS)('typed handlers on %s', (dialect) => {
  it('handle(type), handle([types]) and handle("*") each run on the items of their types, with the payload', async () => {
    const q = await freshQueue<Items>(dialect);
    const mails: string[] = [];
    const logged: string[] = [];
    const every: string[] = [];
    q.handle('mail.send', { name: 'mailer', handle: (item, ctx) => void mails.push(`${item.payload.to}:${item.payload.subject}:${ctx.attempt}`) });
    q.handle(['mail.send', 'audit'], {
      name: 'log',
      handle: (item) => void logged.push(item.type === 'audit' ? `audit ${item.payload.actor}` : `mail ${item.payload.to}`),
    });
    q.handle('*', { name: 'every', handle: (item) => void every.push(item.type) });
    const mail = await q.enqueue('mail.send', { to: 'ada@example.com', subject: 'Hi' });
    await q.enqueue('audit', { action: 'login', actor: 'ada' });
    await q.enqueue('fax', { number: '1' });
    expect(await q.process()).toMatchObject({ claimed: 3, done: 3 });
    expect(mails).toEqual(['ada@example.com:Hi:1']);
    expect(logged.sort()).toEqual(['audit ada', 'mail ada@example.com']);
    expect(every.sort()).toEqual(['audit', 'fax', 'mail.send']);
    expect(Object.keys((await q.admin.get(mail.id))!.results).sort()).toEqual(['every', 'log', 'mailer']);
  });

  it('defineHandlers builds handlers to connect (as handler modules export them), with a timeout', async () => {
    const q = await freshQueue<Items>(dialect);
    const handler = defineHandlers<Items>();
    const seen: string[] = [];
    const h = handler('audit', { name: 'auditor', timeoutMs: 50, handle: async (item) => { seen.push(item.payload.action); await new Promise((r) => setTimeout(r, 500)); } });
    expect(h).toMatchObject({ name: 'auditor', types: ['audit'], timeoutMs: 50 });
    q.connect(h);
    const { id } = await q.enqueue('audit', { action: 'slow', actor: 'ada' });
    expect(await q.process()).toMatchObject({ claimed: 1, retry: 1 });
    expect(seen).toEqual(['slow']);
    expect((await q.admin.get(id))?.results.auditor.error).toMatch(/timeout of 50 ms/);
  });

  it('queue.item entries in an array filled in a loop are written by enqueueMany, options included', async () => {
    const q = await freshQueue<Items>(dialect);
    const items: TypedEnqueueItem<Items>[] = [q.item('mail.send', { to: 'a@example.com', subject: 'A' }, { key: 'mail-a', priority: 3 })];
    for (const actor of ['ada', 'grace']) items.push(q.item('audit', { action: 'login', actor }));
    expect(await q.enqueueMany(items)).toEqual({ inserted: 3, skipped: 0 });
    expect(await q.enqueueMany([q.item('mail.send', { to: 'b@example.com', subject: 'B' }, { key: 'mail-a' })])).toEqual({ inserted: 0, skipped: 1 });
    const listed = await q.admin.list();
    expect(listed.map((i) => [i.type, i.payload, i.key, i.priority]).reverse()).toEqual([
      ['mail.send', { to: 'a@example.com', subject: 'A' }, 'mail-a', 3],
      ['audit', { action: 'login', actor: 'ada' }, null, 0],
      ['audit', { action: 'login', actor: 'grace' }, null, 0],
    ]);
  });

  it('events carry the items, as they stand once written', async () => {
    const q = await freshQueue<Items>(dialect);
    q.handle('mail.send', { name: 'mailer', handle: () => {} });
    const done: Item[] = [];
    const enqueued: string[] = [];
    q.on('itemDone', ({ item }) => void done.push(item));
    q.on('itemEnqueued', (e) => void enqueued.push(e.type));
    const { id } = await q.enqueue('mail.send', { to: 'ada@example.com', subject: 'Hi' });
    await q.process();
    expect(enqueued).toEqual(['mail.send']);
    expect(done).toMatchObject([{ id, type: 'mail.send', status: 'done', payload: { to: 'ada@example.com', subject: 'Hi' } }]);
  });
});

describe('typed handlers: refusals a JavaScript caller can meet', () => {
  it('a handler that also names types, one that is not an object, a bad type name, a name taken: one line each', async () => {
    const q = await freshQueue('sqlite');
    const cases: [() => unknown, string | RegExp][] = [
      [() => q.handle('audit', { name: 'h', types: ['audit'], handle() {} } as any), 'handler "h" has its own types; the first argument names its types ("audit"), so leave types out'],
      [() => q.handle(['a', 'b'], null as any), 'the handler for ["a","b"] is null; pass { name, handle(item, ctx) }'],
      [() => q.handle('bad type!', { name: 'h', handle() {} }), /^handler "h" type "bad type!" is invalid/],
      [() => q.handle([], { name: 'h', handle() {} }), 'handler "h" has types []; give a non-empty list of item types, or \'*\''],
      [() => q.handle('a', { name: 'h' } as any), 'handler "h" has no handle(item, ctx) function'],
    ];
    for (const [call, message] of cases) {
      expect(call).toThrow(UsageError);
      expect(call).toThrow(message);
    }
    q.handle('a', { name: 'taken', handle() {} });
    expect(() => q.handle('b', { name: 'taken', handle() {} })).toThrow(/a handler named "taken" is already connected/);
  });
});
