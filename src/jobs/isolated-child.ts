/**
 * The child process of an isolated handler's run (see isolated.ts): imports the handler's module, runs the handler
 * on the item it is sent, forwards the handler's reports to the worker, and sends back the outcome, then exits.
 * Its `ctx.knex` is opened on first use, on the queue's database.
 */
import { pathToFileURL } from 'node:url';
import knexFactory, { type Knex } from 'knex';
import { parseDatabaseUrl } from '../config.ts';
import { knexConfig } from '../db/connect.ts';
import { messageOf } from '../errors.ts';
import type { Handler, HandlerContext } from '../types.ts';
import { NO_JOB } from './context.ts';
import type { FromChild, ThrownInChild, ToChild } from './isolated.ts';

/** How often progress goes to the worker at most: a job reporting every record must not be a message per record. */
const PROGRESS_EVERY_MS = 50;

const controller = new AbortController();
let knex: Knex | undefined;
let pendingProgress: Extract<FromChild, { kind: 'progress' }> | null = null;
let progressTimer: NodeJS.Timeout | undefined;

function send(m: FromChild): Promise<void> {
  return new Promise((resolve) => process.send!(m, () => resolve()));
}

function sendProgress(): void {
  clearTimeout(progressTimer);
  progressTimer = undefined;
  if (pendingProgress) void send(pendingProgress);
  pendingProgress = null;
}

function thrown(err: unknown): ThrownInChild {
  const e = err as { name?: unknown; delayMs?: unknown };
  let name = 'Error';
  try {
    if (typeof e?.name === 'string') name = e.name;
  } catch {
    // an unreadable name is a plain failure
  }
  const out: ThrownInChild = { name, message: messageOf(err) };
  if (name === 'RetryLaterError' && typeof e.delayMs === 'number') out.delayMs = e.delayMs;
  return out;
}

/**
 * The result as JSON can carry it (the worker keeps at most 64 KiB of it): what JSON cannot carry is not kept in
 * the worker either. Done here, without the worker's modules, so the child starts with as little as it needs.
 */
function asJson(value: unknown): unknown {
  if (value === undefined) return undefined;
  try {
    const json = JSON.stringify(value);
    return json === undefined ? undefined : JSON.parse(json);
  } catch (err) {
    return `[result not kept: JSON cannot carry it (${messageOf(err)})]`;
  }
}

/** The handler named `name` among the module's exports (a handler, or an array of them, as default export). */
async function findHandler(module: string, name: string): Promise<Handler> {
  const mod = await import(/^[a-z]+:/i.test(module) && !/^[a-z]:[\\/]/i.test(module) ? module : pathToFileURL(module).href);
  const exported = mod.default?.default ?? mod.default;
  const list: unknown[] = Array.isArray(exported) ? exported : [exported, ...Object.values(mod)];
  const h = list.find((x) => (x as Handler | undefined)?.name === name && typeof (x as Handler).handle === 'function') as Handler | undefined;
  if (!h) throw Object.assign(new Error(`module ${module} exports no handler named "${name}"`), { name: 'PermanentError' });
  return h;
}

async function run(m: Extract<ToChild, { kind: 'run' }>): Promise<void> {
  let outcome: FromChild;
  try {
    const h = await findHandler(m.module, m.name);
    const ctx: HandlerContext = {
      attempt: m.attempt,
      idempotencyKey: m.idempotencyKey,
      signal: controller.signal,
      get knex() {
        return (knex ??= knexFactory(knexConfig(parseDatabaseUrl(m.db))));
      },
      // Checked here, so a bad report throws in the handler as it would in the worker.
      progress(done, size, message) {
        NO_JOB.reports.progress(done, size, message);
        pendingProgress = { kind: 'progress', done, size: size ?? null, message: message ?? null };
        progressTimer ??= setTimeout(sendProgress, PROGRESS_EVERY_MS);
      },
      history(record) {
        NO_JOB.reports.history(record);
        void send({ kind: 'history', record: { comment: record.comment, subject: record.subject, status: record.status } });
      },
      summary(line) {
        NO_JOB.reports.summary(line);
        void send({ kind: 'summary', line });
      },
      warn(message) {
        void send({ kind: 'warn', message: String(message) });
      },
    };
    const value = await h.handle(m.item, ctx);
    outcome = { kind: 'done', value: asJson(value) };
  } catch (err) {
    outcome = { kind: 'failed', error: thrown(err) };
  }
  sendProgress();
  try {
    await send(outcome);
  } catch {
    await send({ kind: 'failed', error: { name: 'Error', message: 'the result could not be sent to the worker' } });
  }
  await knex?.destroy().catch(() => {});
  // Whatever the handler left running (timers, sockets) must not keep the process: the run is over.
  process.exit(0);
}

process.on('message', (m: ToChild) => {
  if (m.kind === 'run') void run(m);
  else if (m.kind === 'abort') {
    const reason = new Error(m.message);
    reason.name = m.name;
    controller.abort(reason);
  }
});
// The worker is gone (it was killed): so is the run; another worker takes the item after its lease.
process.on('disconnect', () => process.exit(1));
// Ctrl-C on a terminal (and a service manager's SIGTERM to the whole group) reaches this process too: the worker
// decides what happens to the run (finish it, or cancel it), as it does for its other handlers.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
