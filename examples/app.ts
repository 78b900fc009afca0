import { createQueue, PermanentError } from 'signalq';

// The item map: each item type's payload. A misspelt type or a wrong payload is a compile error.
type Items = {
  'mail.send': { to: string; subject: string };
  audit: { action: string; actor: string };
};

// SIGNALQ_DB, else the embedded SQLite file var/signalq.sqlite. The tables are created or updated on first use.
const queue = await createQueue<Items>({ db: process.env.SIGNALQ_DB });

queue.handle('mail.send', {
  name: 'mailer', // its key in each item's results
  async handle(item, ctx) {
    // item.payload is { to, subject }. Return: success. Throw: retried. Throw PermanentError: no more trials.
    if (!item.payload.to.includes('@')) throw new PermanentError(`no address in ${item.payload.to}`);
    console.log(`mail to ${item.payload.to}: ${item.payload.subject} (idempotency key ${ctx.idempotencyKey})`);
  },
});
queue.handle(['mail.send', 'audit'], {
  name: 'log', // a handler of several types: checking item.type narrows item.payload
  handle(item) {
    if (item.type === 'audit') console.log(`audit: ${item.payload.actor} ${item.payload.action}`);
    else console.log(`log: mail to ${item.payload.to}`);
  },
});
queue.on('itemError', ({ item }) => console.error(`item ${item.id} (${item.type}) failed for good`, item.results));
queue.stopOnSignals(); // SIGINT/SIGTERM: finish running handlers, hand back the rest, close; a second one exits

const { id } = await queue.enqueue('mail.send', { to: 'ada@example.com', subject: 'Hi' });
await queue.enqueue('audit', { action: 'login', actor: 'ada' }, { key: 'login-ada', priority: -1 });
const rows = [{ action: 'logout', actor: 'ada' }, { action: 'login', actor: 'grace' }];
await queue.enqueueMany(rows.map((r) => queue.item('audit', r))); // batched: thousands per call

await queue.knex.transaction(async (trx) => {
  // ...the app's own writes with trx: the item commits or rolls back with them
  await queue.enqueue('mail.send', { to: 'grace@example.com', subject: 'Thanks' }, { trx });
});

const working = queue.work(); // claims, runs handlers and writes outcomes until stop()
// ...the app runs; this example stops once the first mail is done:
await new Promise<void>((done) => queue.on('itemDone', ({ item }) => item.id === id && done()));
console.log(await queue.admin.get(id)); // the item: status 'done', results { mailer: { ok: true, … }, log: … }
queue.stop(); // running handlers finish, claimed items not yet started go back to pending
await working;
await queue.close();
