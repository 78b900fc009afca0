/**
 * What becomes of an item after one trial: a pure function of its state and its handlers' outcomes.
 */
import type { HandlerOutcome, HandlerResult, ItemStatus, Results } from '../types.ts';
import { retryDelayMs, type BackoffPolicy } from './backoff.ts';
import { MAX_RUN_AT_MS } from './validate.ts';

/**
 * The results entry in which signalq records its own verdict on a trial no handler's outcome explains: a lease
 * that ran out (the worker died or lost the database), a payload that is not JSON, an outcome the database
 * refused. Handler names may not take it.
 */
export const SIGNALQ_VERDICT = 'signalq';

export interface Decision {
  status: Extract<ItemStatus, 'done' | 'need_retry' | 'error' | 'canceled'>;
  results: Results;
  /** Next run time (epoch ms); for a final status, unchanged. */
  runAt: number;
}

/**
 * Merges this trial's outcomes into the item's results and decides its status:
 * - a run ended because the item was canceled: `canceled` (final, not retried);
 * - every handler that takes the item has succeeded (now or in an earlier trial): `done`;
 * - a handler failed permanently, or this was the item's last trial: `error` (every last error kept);
 * - otherwise `need_retry`, due after the backoff for the trials made so far, or later when a handler asked for
 *   a later retry (`RetryLaterError`).
 */
export function decideAfterTrial(
  item: { trials: number; maxTrials: number; runAt: number; results: Results },
  outcomes: HandlerOutcome[],
  now: number,
  backoff: BackoffPolicy,
  random?: () => number,
): Decision {
  const at = new Date(now).toISOString();
  const results: Results = { ...item.results };
  for (const o of outcomes) {
    const runs = (results[o.name]?.runs ?? 0) + 1;
    const r: HandlerResult = o.ok ? { ok: true, at, runs } : { ok: false, error: o.error ?? 'failed', at, runs };
    if (o.ok && o.value !== undefined) r.value = o.value;
    if (o.warning !== undefined) r.warning = o.warning;
    results[o.name] = r;
  }
  // A canceled item is final, whatever its other handlers did: nobody wants it any more.
  if (outcomes.some((o) => o.canceled)) return { status: 'canceled', results, runAt: item.runAt };
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length === 0) {
    delete results[SIGNALQ_VERDICT]; // an earlier trial's verdict (a lost lease) no longer stands
    return { status: 'done', results, runAt: item.runAt };
  }
  const trialsMade = item.trials + 1;
  if (failed.some((o) => o.permanent) || trialsMade >= item.maxTrials) return { status: 'error', results, runAt: item.runAt };
  const asked = Math.max(0, ...failed.map((o) => (Number.isFinite(o.retryAfterMs) ? o.retryAfterMs! : 0)));
  // A handler may ask for any delay (RetryLaterError(msg, 1e19)); the run time stays one a Date and the
  // database can hold, or the item's outcome could never be written.
  const runAt = Math.min(MAX_RUN_AT_MS, now + Math.max(asked, retryDelayMs(trialsMade, backoff, random)));
  return { status: 'need_retry', results, runAt };
}

/**
 * What becomes of an item whose trial ended without an outcome: its lease ran out (the worker was killed, maybe
 * by the item itself, or lost the database). The same decision as any failed trial, with `reason` as signalq's
 * verdict: the trial counts, the backoff applies, and out of trials it is `error`. Handlers whose success had
 * been written keep it.
 */
export function decideAfterLostTrial(
  item: { trials: number; maxTrials: number; runAt: number; results: Results; cancelRequested?: boolean },
  reason: string,
  now: number,
  backoff: BackoffPolicy,
  random?: () => number,
): Decision {
  // An operator asked to cancel it before its worker went: it is canceled, not tried again.
  if (item.cancelRequested) {
    return decideAfterTrial(item, [{ name: SIGNALQ_VERDICT, ok: false, canceled: true, error: `canceled; ${reason}` }], now, backoff, random);
  }
  return decideAfterTrial(item, [{ name: SIGNALQ_VERDICT, ok: false, error: reason }], now, backoff, random);
}
