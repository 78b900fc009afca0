/**
 * Human-readable output of the listing commands (their `--json` form is the objects themselves).
 */
import type { Item } from '../types.ts';
import type { HistoryRecord, QueueStats } from '../admin/admin.ts';
import { formatHistory, formatProgress } from './format-jobs.ts';
import type { BatchSummary } from '../queue/batch.ts';
import { MAX_RUN_AT_MS } from '../queue/validate.ts';

/**
 * A time for people, in ISO 8601; never throws, so one odd row cannot fail a listing. A time at the edge of what a
 * Date holds says the stored one may lie beyond it (db/rows.ts reads a time past the edge as the edge), and an
 * invalid one (text in a SQLite column) says so.
 */
export function formatTime(d: Date): string {
  const t = d.getTime();
  if (Number.isNaN(t)) return 'invalid time';
  if (t >= MAX_RUN_AT_MS) return `${d.toISOString()} (the latest a Date holds; the stored time may be later)`;
  if (t <= -MAX_RUN_AT_MS) return `${d.toISOString()} (the earliest a Date holds; the stored time may be earlier)`;
  return d.toISOString();
}

const timeOrDash = (d: Date | null) => (d ? formatTime(d) : '-');

export function formatSummary(s: Pick<BatchSummary, 'claimed' | 'done' | 'retry' | 'error'> & { batches?: number; canceled?: number; handedBack?: number; ms?: number }): string {
  const parts = [`claimed ${s.claimed}`, `done ${s.done}`, `retry ${s.retry}`, `error ${s.error}`];
  if (s.canceled) parts.push(`canceled ${s.canceled}`);
  if (s.handedBack) parts.push(`handed back ${s.handedBack}`);
  if (s.batches !== undefined) parts.push(`in ${s.batches} batch${s.batches === 1 ? '' : 'es'}`);
  if (s.ms !== undefined) parts.push(`${s.ms} ms`);
  return parts.join(', ');
}

export function formatStats(s: QueueStats): string {
  const lines = [Object.entries(s.counts).map(([k, v]) => `${k} ${v}`).join(', ') + `; total ${s.total}`];
  if (s.oldestDueAt) {
    const ago = Math.round((Date.now() - s.oldestDueAt.getTime()) / 1000);
    lines.push(Number.isNaN(ago) ? 'oldest runnable item due at an invalid time' : `oldest runnable item due ${Math.max(0, ago)} s ago (${formatTime(s.oldestDueAt)})`);
  }
  for (const t of s.types) {
    const c = Object.entries(t.counts).map(([k, v]) => `${k} ${v}`).join(', ');
    lines.push(`  ${t.type}: ${c}${t.noHandler ? '  (no live worker takes this type)' : `  [${t.handlers.join(', ')}]`}`);
  }
  return lines.join('\n');
}

export function formatItemLine(i: Item): string {
  const failed = Object.entries(i.results).filter(([, r]) => !r.ok).map(([n]) => n);
  return `${i.id}\t${i.type}\t${i.status}\ttrials ${i.trials}/${i.maxTrials}\t${formatTime(i.createdAt)}${failed.length ? `\tfailed: ${failed.join(', ')}` : ''}`;
}

/**
 * One item as `signalq show` prints it: queued, assigned (claimed by a worker, maybe waiting for a free slot),
 * started, progress, finished, outcome, summary, results (each handler's returned value once finished), and the
 * history records.
 */
export function formatItem(i: Item, history: HistoryRecord[] = []): string {
  const running = i.status === 'in_progress';
  const lines = [
    `id        ${i.id}`,
    `type      ${i.type}`,
    `status    ${i.status}${i.cancelRequested && running ? ' (cancel requested)' : ''}`,
    `trials    ${i.trials} of ${i.maxTrials}`,
    `priority  ${i.priority}`,
    `queued    ${formatTime(i.createdAt)}`,
    `run at    ${formatTime(i.runAt)}`,
    `assigned  ${running && i.lastTryAt ? `${formatTime(i.lastTryAt)} to ${i.owner ?? '?'}` : '-'}`,
    `started   ${i.startedAt ? formatTime(i.startedAt) : running ? '- (waiting for a free slot)' : '-'}`,
    `last try  ${timeOrDash(i.lastTryAt)}`,
    `finished  ${timeOrDash(i.finishedAt)}`,
    `owner     ${i.owner ?? '-'}${i.leaseUntil ? ` (lease until ${formatTime(i.leaseUntil)})` : ''}`,
  ];
  if (i.progress) lines.push(`progress  ${formatProgress(i.progress)}`);
  if (i.summary) lines.push(`summary   ${i.summary}`);
  if (i.invoker || i.scope) lines.push(`invoker   ${i.invoker ?? '-'}${i.scope ? ` (scope ${i.scope})` : ''}`);
  lines.push(`key       ${i.key ?? '-'}`, `payload   ${JSON.stringify(i.payload)}`, 'results');
  const entries = Object.entries(i.results);
  if (entries.length === 0) lines.push('  (no handler has run)');
  for (const [name, r] of entries) {
    const value = r.value !== undefined ? ` -> ${JSON.stringify(r.value)}` : '';
    lines.push(`  ${name}: ${r.ok ? 'ok' : 'failed'} (${r.runs} run${r.runs === 1 ? '' : 's'}, ${r.at})${r.error ? ` ${r.error}` : ''}${r.warning ? ` warning: ${r.warning}` : ''}${value}`);
  }
  if (history.length > 0) lines.push(`history (${history.length})`, ...formatHistory(history));
  return lines.join('\n');
}
