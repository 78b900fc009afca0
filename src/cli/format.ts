/**
 * Human-readable output of the listing commands (their `--json` form is the objects themselves).
 */
import type { Item } from '../types.ts';
import type { QueueStats } from '../queue/inspect.ts';
import type { BatchSummary } from '../queue/processor.ts';

export function formatSummary(s: Pick<BatchSummary, 'claimed' | 'done' | 'retry' | 'error'> & { batches?: number; released?: number; ms?: number }): string {
  const parts = [`claimed ${s.claimed}`, `done ${s.done}`, `retry ${s.retry}`, `error ${s.error}`];
  if (s.released) parts.push(`handed back ${s.released}`);
  if (s.batches !== undefined) parts.push(`in ${s.batches} batch${s.batches === 1 ? '' : 'es'}`);
  if (s.ms !== undefined) parts.push(`${s.ms} ms`);
  return parts.join(', ');
}

export function formatStats(s: QueueStats): string {
  const lines = [Object.entries(s.counts).map(([k, v]) => `${k} ${v}`).join(', ') + `; total ${s.total}`];
  if (s.oldestDueAt) lines.push(`oldest runnable item due ${Math.max(0, Math.round((Date.now() - s.oldestDueAt.getTime()) / 1000))} s ago (${s.oldestDueAt.toISOString()})`);
  for (const t of s.types) {
    const c = Object.entries(t.counts).map(([k, v]) => `${k} ${v}`).join(', ');
    lines.push(`  ${t.type}: ${c}${t.noHandler ? '  (no handler connected takes this type)' : `  [${t.handlers.join(', ')}]`}`);
  }
  return lines.join('\n');
}

export function formatItemLine(i: Item): string {
  const failed = Object.entries(i.results).filter(([, r]) => !r.ok).map(([n]) => n);
  return `${i.id}\t${i.type}\t${i.status}\ttrials ${i.trials}/${i.maxTrials}\t${i.createdAt.toISOString()}${failed.length ? `\tfailed: ${failed.join(', ')}` : ''}`;
}

export function formatItem(i: Item): string {
  const lines = [
    `id        ${i.id}`,
    `type      ${i.type}`,
    `status    ${i.status}`,
    `trials    ${i.trials} of ${i.maxTrials}`,
    `priority  ${i.priority}`,
    `run at    ${i.runAt.toISOString()}`,
    `created   ${i.createdAt.toISOString()}`,
    `last try  ${i.lastTryAt?.toISOString() ?? '-'}`,
    `finished  ${i.finishedAt?.toISOString() ?? '-'}`,
    `key       ${i.key ?? '-'}`,
    `owner     ${i.owner ?? '-'}${i.leaseUntil ? ` (lease until ${i.leaseUntil.toISOString()})` : ''}`,
    `payload   ${JSON.stringify(i.payload)}`,
    'results',
  ];
  const entries = Object.entries(i.results);
  if (entries.length === 0) lines.push('  (no handler has run)');
  for (const [name, r] of entries) lines.push(`  ${name}: ${r.ok ? 'ok' : 'failed'} (${r.runs} run${r.runs === 1 ? '' : 's'}, ${r.at})${r.error ? ` ${r.error}` : ''}`);
  return lines.join('\n');
}
