/**
 * Compile-time checks of the typed API, run by `tsc` (test/types/types.test.ts). Each `@ts-expect-error` names, after
 * it, text the compiler's error must contain: the test compiles this file once as it is (an unused directive fails
 * it) and once without the directives, checking that each marked line fails for the reason given.
 * Nothing here runs.
 */
import { createQueue, defineHandler, defineHandlers, type Item, type ItemOf, type TypedEnqueueItem } from '../../src/index.ts';

type Items = {
  'mail.send': { to: string; subject: string };
  audit: { action: string; actor: string };
};

export async function typedQueue(): Promise<void> {
  const queue = await createQueue<Items>();

  // enqueue: the type picks the payload type.
  await queue.enqueue('mail.send', { to: 'ada@example.com', subject: 'Hi' });
  // @ts-expect-error "mail.sned"
  await queue.enqueue('mail.sned', { to: 'ada@example.com', subject: 'Hi' });
  // @ts-expect-error subject
  await queue.enqueue('mail.send', { to: 'ada@example.com' });
  // @ts-expect-error number
  await queue.enqueue('audit', { action: 'login', actor: 42 });

  // handle: one type gives its payload; several give a union that item.type narrows.
  queue.handle('mail.send', {
    name: 'mailer',
    handle(item, ctx) {
      const to: string = item.payload.to;
      const type: 'mail.send' = item.type;
      return [to, type, ctx.idempotencyKey];
    },
  });
  queue.handle(['mail.send', 'audit'], {
    name: 'log',
    handle(item) {
      if (item.type === 'audit') return item.payload.actor;
      return item.payload.subject;
    },
  });
  // @ts-expect-error "mail.sned"
  queue.handle('mail.sned', { name: 'typo', handle() {} });
  // @ts-expect-error "mail.sned"
  queue.handle(['audit', 'mail.sned'], { name: 'typo2', handle() {} });
  queue.handle('audit', {
    name: 'wrong-payload',
    // @ts-expect-error subject
    handle(item) { return item.payload.subject; },
  });
  // A handle that expects another payload than the map's.
  // @ts-expect-error url
  queue.handle('audit', { name: 'wrong-param', handle(item: Item<{ url: string }>) { return item.payload.url; } });
  // @ts-expect-error types
  queue.handle('audit', { name: 'two-lists', types: ['audit'], handle() {} });
  queue.handle('*', { name: 'every', handle(item) { const p: unknown = item.payload; return p; } });

  // defineHandlers: the same checks, for handler modules.
  const handler = defineHandlers<Items>();
  queue.connect(handler('audit', { name: 'auditor', handle: (item) => item.payload.action }));
  // @ts-expect-error "mail.sned"
  handler('mail.sned', { name: 'typo3', handle() {} });
  // The untyped connect keeps working.
  queue.connect(defineHandler<Items['mail.send']>({ name: 'old-style', types: ['mail.send'], handle: (item) => item.payload.to }));

  // Events carry the map's items.
  queue.on('itemDone', ({ item }) => {
    const i: ItemOf<Items> = item;
    if (item.type === 'mail.send') return item.payload.to;
    return [i, item.payload.actor];
  });
  queue.on('itemEnqueued', (e) => {
    const t: 'mail.send' | 'audit' = e.type;
    return t;
  });
  // @ts-expect-error subject
  queue.on('itemError', ({ item }) => item.payload.subject);

  // enqueueMany: a plainly built array of queue.item(...) keeps its types; so does a mapped array in the call.
  const items = [queue.item('mail.send', { to: 'a@example.com', subject: 'A' }), queue.item('audit', { action: 'x', actor: 'y' }, { key: 'k' })];
  items.push(queue.item('audit', { action: 'z', actor: 'w' }));
  await queue.enqueueMany(items);
  // An array filled later: declared with the map's entry type, it takes queue.item(...) and checked literals.
  const later: TypedEnqueueItem<Items>[] = [];
  later.push(queue.item('audit', { action: 'a', actor: 'b' }), { type: 'mail.send', payload: { to: 'c', subject: 'd' } });
  // @ts-expect-error "mail.sned"
  later.push({ type: 'mail.sned', payload: { to: 'c', subject: 'd' } });
  await queue.enqueueMany(later);
  const rows = [{ action: 'login', actor: 'ada' }];
  await queue.enqueueMany(rows.map((r) => ({ type: 'audit', payload: r })));
  await queue.enqueueMany(rows.map((r) => queue.item('audit', r)));
  // @ts-expect-error "mail.sned"
  queue.item('mail.sned', { to: 'a', subject: 'b' });
  // @ts-expect-error actor
  queue.item('audit', { action: 'x' });
  // An object literal kept in a variable widens its type to string, which the map cannot check.
  const widened = [{ type: 'audit', payload: { action: 'x', actor: 'y' } }];
  // @ts-expect-error string
  await queue.enqueueMany(widened);
  // @ts-expect-error "mail.sned"
  await queue.enqueueMany([{ type: 'mail.sned', payload: { to: 'a', subject: 'b' } }]);
}

export async function untypedQueue(): Promise<void> {
  const queue = await createQueue();
  // Without a map every type and payload goes, and a plainly built array is accepted as it is.
  await queue.enqueue('anything', { n: 1 });
  const widened = [{ type: 'audit', payload: { action: 'x' } }];
  await queue.enqueueMany(widened);
  queue.handle(['a', 'b'], { name: 'h', handle(item) { const p: unknown = item.payload; return [p, item.type]; } });
  queue.on('itemDone', ({ item }) => { const i: Item = item; return i; });
}
