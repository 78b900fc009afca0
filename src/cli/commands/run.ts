/**
 * `signalq migrate`, `signalq process` (one batch, the cron-run form) and `signalq work` (the long-running form).
 */
import { resolve } from 'node:path';
import { createQueue, type Queue } from '../../queue/queue.ts';
import { emptyTally } from '../../queue/batch.ts';
import type { WorkTotals } from '../../worker/work-loop.ts';
import type { QueueOptions } from '../../config.ts';
import { messageOf } from '../../errors.ts';
import { acquireLockFile } from '../lock-file.ts';
import { formatSummary } from '../format.ts';
import { openQueue, output, type GlobalFlags } from '../context.ts';
import { parseDuration, parseInteger } from '../parse.ts';
import { dashboardSettings, startDashboardFromFlags } from './dashboard.ts';

export interface RunFlags extends GlobalFlags {
  handlers?: string;
  lease?: string;
  limit?: string;
  concurrency?: string;
  backoff?: string;
  handlerTimeout?: string;
  poll?: string;
  json?: boolean;
}

export interface WorkFlags extends RunFlags {
  /** `--dashboard` alone: true (port 8080); with a value: the port. */
  dashboard?: boolean | string;
  dashboardHost?: string;
}

export interface ProcessFlags extends RunFlags {
  untilEmpty?: boolean;
  lock?: boolean;
  lockFile?: string;
}

const DEFAULT_HANDLERS = './handlers';

function queueOptions(f: RunFlags): QueueOptions {
  const o: QueueOptions = {};
  if (f.lease !== undefined) o.leaseMs = parseDuration(f.lease, '--lease');
  if (f.limit !== undefined) o.batchSize = parseInteger(f.limit, '--limit', 1, 100_000);
  if (f.concurrency !== undefined) o.concurrency = parseInteger(f.concurrency, '--concurrency', 1, 10_000);
  if (f.backoff !== undefined) o.backoffBaseMs = parseDuration(f.backoff, '--backoff');
  if (f.handlerTimeout !== undefined) o.handlerTimeoutMs = Math.max(1, Math.round(parseDuration(f.handlerTimeout, '--handler-timeout')));
  if (f.poll !== undefined) o.pollIntervalMs = parseDuration(f.poll, '--poll');
  return o;
}

function openWithHandlers(f: RunFlags, options: QueueOptions = queueOptions(f)): Promise<Queue> {
  return openQueue(f, options, { dir: resolve(f.handlers ?? DEFAULT_HANDLERS), explicit: f.handlers !== undefined });
}

/** Prints lifecycle problems on standard error, one line each (the library itself never prints). */
function reportProblems(queue: Queue, verbose: boolean): void {
  queue.on('databaseError', (e) => process.stderr.write(`signalq: database error while ${e.during}: ${messageOf(e.error)}; retrying in ${e.retryInMs} ms\n${verbose && e.error?.stack ? e.error.stack + '\n' : ''}`));
  queue.on('listenerError', (e) => process.stderr.write(`signalq: a listener of ${e.event} threw: ${messageOf(e.error)}\n`));
  queue.on('claimLost', (e) => process.stderr.write(`signalq: ${e.count} outcomes not written: their lease ran out and another processor took the items\n`));
  if (verbose) queue.on('handlerFailed', (e) => process.stderr.write(`signalq: handler ${e.handler} failed on item ${e.item.id}: ${e.error}\n`));
  // An item that failed for good needs an operator (signalq show / retry): always say so.
  queue.on('itemError', ({ item }) => {
    const failed = Object.entries(item.results).filter(([, r]) => !r.ok).map(([name, r]) => `${name}: ${r.error ?? 'failed'}`);
    process.stderr.write(`signalq: item ${item.id} (${item.type}) failed for good after ${item.trials} trial(s): ${failed.join('; ')}\n`);
  });
}

/** Prints a line a minute with what the worker did, when it did anything (a long-running worker's heartbeat). */
function reportActivity(queue: Queue, everyMs = 60_000): () => void {
  let c = { claimed: 0, done: 0, retry: 0, error: 0 };
  queue.on('batchEnd', (e) => {
    c.claimed += e.claimed;
    c.done += e.done;
    c.retry += e.retry;
    c.error += e.error;
  });
  const timer = setInterval(() => {
    if (c.claimed === 0) return;
    process.stderr.write(`signalq: last ${Math.round(everyMs / 1000)} s: ${formatSummary(c)}\n`);
    c = { claimed: 0, done: 0, retry: 0, error: 0 };
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

export async function migrateCommand(f: GlobalFlags & { json?: boolean }): Promise<void> {
  const queue = await createQueue({ db: f.db });
  try {
    const applied = await queue.migrate();
    output(!!f.json, { applied }, () => (applied.length ? `applied ${applied.join(', ')}` : 'the schema is up to date'));
  } finally {
    await queue.close();
  }
}

export async function processCommand(f: ProcessFlags): Promise<void> {
  const options = queueOptions(f); // bad flags fail before the lock is taken
  const lock = f.lock === false ? null : acquireLockFile(resolve(f.lockFile ?? 'var/signalq.lock'));
  if (lock?.tookOverFrom) process.stderr.write(`signalq: warning: took over the lock file ${lock.path} left by PID ${lock.tookOverFrom}, which is no longer running\n`);
  let queue: Queue | undefined;
  let stopping = false;
  const onSignal = () => {
    stopping = true;
    queue?.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    queue = await openWithHandlers(f, options);
    reportProblems(queue, !!f.verbose);
    if (queue.handlerNames().length === 0) {
      process.stderr.write(`signalq: warning: no handlers connected (none in ${f.handlers ?? DEFAULT_HANDLERS}); nothing will be claimed\n`);
    }
    const started = Date.now();
    let total: WorkTotals;
    if (f.untilEmpty) {
      // The pipelined loop of `work`, stopping once nothing is runnable and every outcome is written.
      total = stopping ? { batches: 0, claimed: 0, ...emptyTally() } : await queue.work({ untilEmpty: true });
    } else {
      const s = await queue.process();
      total = { batches: s.claimed > 0 ? 1 : 0, claimed: s.claimed, done: s.done, retry: s.retry, error: s.error, canceled: s.canceled, handedBack: s.handedBack, lost: s.lost };
    }
    const summary = { ...total, ms: Date.now() - started };
    output(!!f.json, summary, () => formatSummary(summary));
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await queue?.close().catch(() => {});
    lock?.release();
  }
}

export async function workCommand(f: WorkFlags & { crontab?: boolean }): Promise<void> {
  const address = f.dashboard ? dashboardSettings(f.dashboard === true ? undefined : f.dashboard, f.dashboardHost, '--dashboard') : null;
  const queue = await openWithHandlers(f);
  const dashboard = address ? await startDashboardFromFlags(queue, address, !!f.verbose).catch(async (err) => {
    await queue.close().catch(() => {});
    throw err;
  }) : null;
  reportProblems(queue, !!f.verbose);
  const stopReporting = reportActivity(queue);
  const names = queue.handlerNames();
  process.stderr.write(`signalq: working on ${queue.target.display} as ${queue.options.owner} with handlers: ${names.length ? names.join(', ') : '(none: nothing will be claimed)'}; Ctrl-C to stop\n`);
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      // A second signal: leave now. Claimed items are not lost: their leases run out and another run takes them.
      process.stderr.write(`signalq: ${sig} again, exiting at once; claimed items return after their lease\n`);
      process.exit(130);
    }
    process.stderr.write(`signalq: ${sig}: finishing running handlers, handing back the rest (again to exit at once)\n`);
    queue.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    if (f.crontab !== false) {
      // The crontab runs beside the work loop; queue.stop() stops it too. Not a refusal: handlers may live elsewhere.
      await queue.startCrontab({
        onUnhandledType: (c) => process.stderr.write(`signalq: warning: cron ${c.name} enqueues ${c.type}, which no handler of this worker takes; its items wait for a worker that has one\n`),
      });
    }
    const totals = signals > 0 ? { batches: 0, claimed: 0, ...emptyTally() } : await queue.work();
    process.stderr.write(`signalq: stopped; ${formatSummary({ ...totals })}\n`);
  } finally {
    stopReporting();
    await dashboard?.close();
    await queue.close().catch(() => {});
  }
}
