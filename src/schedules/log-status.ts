/**
 * The status of a cron run's log entry, decided from the item it enqueued: a pure function, used when a worker
 * records a finished run and when logs are read before that.
 */
import type { ItemStatus } from '../types.ts';

/**
 * - `OK`: the item finished done, first trial, no warning.
 * - `WARN`: it finished done but needed retries, or a handler reported a warning (`ctx.warn`).
 * - `FAILURE`: it ended in error (or was canceled).
 * - `NOTRUN`: no item: the tick was missed, or skipped because the previous run had not finished (no overlap).
 * - `RUNNING`: the item is not finished yet (never stored: a log entry has no status until then).
 */
export type CronRunStatus = 'OK' | 'WARN' | 'FAILURE' | 'NOTRUN' | 'RUNNING';
export const CRON_RUN_STATUSES: readonly CronRunStatus[] = ['OK', 'WARN', 'FAILURE', 'NOTRUN', 'RUNNING'];

/** What the decision reads of the item (null: the item is gone, deleted or purged). */
export interface RunItem {
  id: number;
  status: ItemStatus;
  trials: number;
  /** The item's `results` column: JSON of handler name -> { ok, error?, warning?, ... }. */
  results: string;
}

/** The run's status and message from its item. `RUNNING` while the item is unfinished. */
export function runStatusOf(itemId: number, item: RunItem | null): { status: CronRunStatus; message: string } {
  if (!item) return { status: 'WARN', message: `item ${itemId} is gone (deleted or purged) before its outcome was read` };
  const results = parseResults(item.results);
  if (item.status === 'error') {
    const errors = Object.entries(results).filter(([, r]) => r && r.ok === false).map(([name, r]) => `${name}: ${r.error ?? 'failed'}`);
    return { status: 'FAILURE', message: `item ${item.id} failed after ${item.trials} trial(s)${errors.length ? `: ${errors.join('; ')}` : ''}` };
  }
  if (item.status === 'canceled') return { status: 'FAILURE', message: `item ${item.id} was canceled` };
  if (item.status !== 'done') return { status: 'RUNNING', message: `item ${item.id} is ${item.status}` };
  const warnings = Object.entries(results).filter(([, r]) => r && typeof r.warning === 'string').map(([name, r]) => `${name}: ${r.warning}`);
  if (warnings.length) return { status: 'WARN', message: `item ${item.id} done with warnings: ${warnings.join('; ')}` };
  if (item.trials > 1) return { status: 'WARN', message: `item ${item.id} done after ${item.trials} trials` };
  return { status: 'OK', message: `item ${item.id} done` };
}

function parseResults(text: string): Record<string, { ok?: boolean; error?: string; warning?: unknown }> {
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}
