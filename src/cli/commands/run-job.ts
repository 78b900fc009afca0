/**
 * `signalq run TYPE [--param name=value ...]`: runs one job now, in this process (COmanage Registry's Job
 * Command). The item is enqueued (its parameters checked like any enqueue), claimed by id and run as a batch of
 * one, so it is recorded in the table exactly like a queued job; a live progress bar on a terminal, plain lines
 * otherwise; Ctrl-C cancels it (the item ends `canceled`, exit 130).
 */
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { UsageError } from '../../errors.ts';
import { payloadFromParams } from '../../jobs/params.ts';
import { takesType } from '../../queue/handlers.ts';
import type { Queue } from '../../queue/queue.ts';
import type { Item } from '../../types.ts';
import { formatProgress } from '../format-jobs.ts';
import { openQueue, output, type GlobalFlags } from '../context.ts';

export interface RunJobFlags extends GlobalFlags {
  param?: string[];
  json?: boolean;
  invoker?: string;
  scope?: string;
  handlers?: string;
}

/** A command that ends with this exit code and nothing more to say (what it had to say is printed). */
export class ExitWith extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** How often the progress is read from the table: the bar's refresh, and at most one plain line per second. */
const BAR_EVERY_MS = 200;
const LINE_EVERY_MS = 1_000;

/** The exit code of a finished run: 0 done, 130 canceled by Ctrl-C, 1 anything else (error, retry, canceled elsewhere). */
export function exitCodeOf(status: Item['status'], interrupted: boolean): number {
  if (status === 'done') return 0;
  if (status === 'canceled' && interrupted) return 130;
  return 1;
}

/** The outcome as text: status line, summary, each handler's result or error. */
export function formatOutcome(item: Item, ms: number): string {
  const lines = [`item ${item.id} (${item.type}) ${item.status} after ${(ms / 1000).toFixed(1)} s${item.status === 'need_retry' ? '; it will be tried again by a worker' : ''}`];
  if (item.summary) lines.push(`summary  ${item.summary}`);
  for (const [name, r] of Object.entries(item.results)) {
    if (r.ok) lines.push(`result   ${name}: ${r.value === undefined ? '(none)' : JSON.stringify(r.value)}${r.warning ? ` (warning: ${r.warning})` : ''}`);
    else lines.push(`error    ${name}: ${r.error ?? 'failed'}`);
  }
  lines.push(`signalq show ${item.id} has its history`);
  return lines.join('\n');
}

export async function runJobCommand(type: string, f: RunJobFlags): Promise<void> {
  const dir = resolve(f.handlers ?? './handlers');
  const queue = await openQueue(f, {}, { dir, explicit: true });
  let interrupted = 0;
  let id: number | undefined;
  const onSigint = () => {
    if (++interrupted > 1) {
      process.stderr.write('signalq: Ctrl-C again, exiting at once; the item returns after its lease\n');
      process.exit(130);
    }
    process.stderr.write(`signalq: canceling item ${id} (Ctrl-C again to exit at once)\n`);
    if (id !== undefined) void queue.cancel(id, 'Ctrl-C in signalq run').catch(() => {}); // a finished item needs no cancel
  };
  let item: Item;
  const started = Date.now();
  try {
    const handlers = queue.registry.handlers.filter((h) => takesType(h, type));
    if (handlers.length === 0) {
      throw new UsageError(`no handler in ${f.handlers ?? './handlers'} takes type ${type}; signalq run runs the job in this process, so give the folder of its handler with --handlers DIR (signalq types lists the types)`);
    }
    const schema = handlers.find((h) => h.params)?.params ?? null;
    const payload = payloadFromParams(f.param ?? [], schema);
    ({ id } = await queue.enqueue(type, payload, { invoker: f.invoker, scope: f.scope }));
    process.on('SIGINT', onSigint);
    const stopShowing = showProgress(queue, id);
    let final: Item | undefined;
    try {
      item = final = await queue.runNow(id);
    } finally {
      stopShowing(final);
    }
  } finally {
    process.off('SIGINT', onSigint);
    await queue.close().catch(() => {});
  }
  output(!!f.json, item, () => formatOutcome(item, Date.now() - started));
  const code = exitCodeOf(item.status, interrupted > 0);
  if (code !== 0) throw new ExitWith(code);
}

/**
 * Shows the job's progress as recorded in the table (what any other process sees): a bar on a terminal, plain
 * lines on standard error otherwise, one when it changed and at most one a second. Returns what stops it.
 */
function showProgress(queue: Queue, id: number): (final?: Item) => void {
  const tty = process.stderr.isTTY === true;
  const bar = tty ? new cliProgress.SingleBar({ stream: process.stderr, format: '{bar} {percentage}% | {value}/{total} | {message}', hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic) : null;
  let barStarted = false;
  let last = '';
  let reading = false;
  const timer = setInterval(async () => {
    if (reading) return;
    reading = true;
    try {
      const p = (await queue.admin.get(id))?.progress;
      if (!p) return;
      if (bar) {
        const total = p.size ?? Math.max(p.done, 1);
        if (!barStarted) bar.start(total, p.done, { message: p.message ?? '' });
        else bar.update(p.done, { message: p.message ?? '' });
        bar.setTotal(total);
        barStarted = true;
      } else {
        const line = formatProgress(p);
        if (line !== last) process.stderr.write(`signalq: item ${id}: ${line}\n`);
        last = line;
      }
    } catch {
      // A progress read that fails leaves the display as it was; the run itself goes on.
    } finally {
      reading = false;
    }
  }, tty ? BAR_EVERY_MS : LINE_EVERY_MS);
  return (final) => {
    clearInterval(timer);
    const p = final?.progress;
    if (bar && barStarted && p) bar.update(p.done, { message: p.message ?? '' });
    if (barStarted) bar!.stop();
    // The last progress, when the run ended between two reads.
    if (!bar && p && formatProgress(p) !== last) process.stderr.write(`signalq: item ${id}: ${formatProgress(p)}\n`);
  };
}
