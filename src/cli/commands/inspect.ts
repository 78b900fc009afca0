/**
 * `signalq stats`, `list`, `show ID`, `retry ID`, `delete ID`, `purge --done-older-than 7d`.
 */
import { UsageError } from '../../errors.ts';
import { output, withQueue, type GlobalFlags } from '../context.ts';
import { formatItem, formatItemLine, formatStats, formatTime } from '../format.ts';
import { parseDuration, parseInteger } from '../parse.ts';

interface JsonFlag extends GlobalFlags {
  json?: boolean;
}

function parseId(text: string): number {
  return parseInteger(text, 'item id', 1);
}

export function statsCommand(f: JsonFlag) {
  return withQueue(f, async (q) => {
    const s = await q.admin.stats();
    output(!!f.json, s, () => formatStats(s));
  });
}

export function listCommand(f: JsonFlag & { status?: string; type?: string; invoker?: string; scope?: string; limit?: string }) {
  const limit = f.limit !== undefined ? parseInteger(f.limit, '--limit', 1, 100_000) : 50;
  return withQueue(f, async (q) => {
    const items = await q.admin.list({ status: f.status, type: f.type, invoker: f.invoker, scope: f.scope, limit });
    if (f.json) return output(true, items, () => '');
    // Unfinished items of a type no live worker takes will wait until one starts: say which types those are.
    const handlersOf = await q.admin.liveHandlersByType();
    const waiting = [...new Set(items.filter((i) => ['pending', 'need_retry'].includes(i.status)).map((i) => i.type))].filter((t) => handlersOf(t).length === 0);
    const lines = items.length ? items.map(formatItemLine) : ['no items'];
    if (waiting.length) lines.push(`no live worker takes: ${waiting.sort().join(', ')} (their items wait until a worker with a handler for them runs)`);
    output(false, items, () => lines.join('\n'));
  });
}

export function showCommand(idText: string, f: JsonFlag) {
  const id = parseId(idText);
  return withQueue(f, async (q) => {
    const item = await q.admin.get(id);
    if (!item) throw new UsageError(`no item with id ${id}`);
    const history = await q.admin.history(id);
    output(!!f.json, { ...item, history }, () => formatItem(item, history));
  });
}

export function retryCommand(idText: string | undefined, f: JsonFlag & { all?: boolean; type?: string }) {
  if (f.all) {
    if (idText !== undefined) throw new UsageError('give either an item id or --all, not both');
    return withQueue(f, async (q) => {
      const r = await q.admin.retryAll(f.type);
      output(!!f.json, r, () => `${r.retried} error items${f.type ? ` of type ${f.type}` : ''} are pending again${r.skipped ? `; ${r.skipped} left in error (their dedupe key is held by an unfinished item)` : ''}`);
    });
  }
  if (f.type !== undefined) throw new UsageError('--type goes with --all (retry every error item of that type)');
  if (idText === undefined) throw new UsageError('retry needs an item id, or --all to retry every error item');
  const id = parseId(idText);
  return withQueue(f, async (q) => {
    const item = await q.admin.retry(id);
    const failed = Object.entries(item.results).filter(([, r]) => !r.ok).map(([n]) => n);
    output(!!f.json, item, () => `item ${id} is pending again${failed.length ? `; will run ${failed.join(', ')} (the others already succeeded)` : ''}`);
  });
}

export function deleteCommand(idText: string, f: JsonFlag) {
  const id = parseId(idText);
  return withQueue(f, async (q) => {
    const item = await q.admin.delete(id);
    output(!!f.json, item, () => `deleted item ${id} (${item.type}, ${item.status})`);
  });
}

export function workersCommand(f: JsonFlag) {
  return withQueue(f, async (q) => {
    const workers = await q.admin.workers();
    output(!!f.json, workers, () =>
      workers.length
        ? workers.map((w) => `${w.host}\tPID ${w.pid}\t${w.alive ? 'alive' : 'not seen since ' + formatTime(w.seenAt)}\tsince ${formatTime(w.startedAt)}\t[${w.handlers.join(', ')}]`).join('\n')
        : 'no workers running',
    );
  });
}

export function purgeCommand(f: JsonFlag & { doneOlderThan?: string }) {
  if (f.doneOlderThan === undefined) throw new UsageError('purge needs --done-older-than DURATION, e.g. --done-older-than 7d');
  const age = parseDuration(f.doneOlderThan, '--done-older-than');
  return withQueue(f, async (q) => {
    const deleted = await q.admin.purgeDone(age);
    output(!!f.json, { deleted }, () => `deleted ${deleted} done items finished over ${f.doneOlderThan} ago`);
  });
}
