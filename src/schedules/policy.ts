/**
 * What to do with the ticks of a cron that came due: a pure decision, from the due ticks, the time now and the
 * cron's missed-run policy.
 */

/** What happens to ticks no worker ran at their time. */
export type MissedPolicy = 'skip' | 'once' | 'all';
export const MISSED_POLICIES: readonly MissedPolicy[] = ['skip', 'once', 'all'];

export interface DueTicks {
  /** Scheduled times in [next_run_at, now], ascending (the latest ones, when there are many). */
  ticks: number[];
  /** Earlier due ticks exist beyond `ticks`. */
  more: boolean;
  /** The first due time (the cron's `next_run_at`), for the message. */
  from: number;
}

export interface TickDecision {
  /** Scheduled times to enqueue an item for, ascending. */
  run: number[];
  /** Missed ticks not run: logged as one NOTRUN entry keyed by the latest of them. */
  notRun: { count: number; atLeast: boolean; first: number; last: number } | null;
}

/**
 * A tick is on time when it is the latest due tick and at most `graceMs` late (a worker was up and ran it, maybe
 * after a busy moment); every earlier due tick, whose successor already came, and a latest one later than that,
 * was missed: no worker was running (or the crontab was off). Then the policy decides:
 * - `skip`: run the on-time tick only; the missed ones are NOTRUN.
 * - `once`: also run one catch-up for the missed ones (the latest of them); the others are NOTRUN.
 * - `all`: also run each missed tick, the latest `maxCatchUp` of them; older ones are NOTRUN.
 */
export function decideDueTicks(due: DueTicks, now: number, policy: MissedPolicy, graceMs: number, maxCatchUp: number): TickDecision {
  if (due.ticks.length === 0) return { run: [], notRun: null };
  const latest = due.ticks[due.ticks.length - 1];
  const onTime = now - latest <= graceMs ? [latest] : [];
  const missed = onTime.length ? due.ticks.slice(0, -1) : due.ticks;
  let caughtUp: number[] = [];
  if (policy === 'once' && missed.length) caughtUp = missed.slice(-1);
  if (policy === 'all') caughtUp = missed.slice(-maxCatchUp);
  const skipped = missed.slice(0, missed.length - caughtUp.length);
  const notRun = skipped.length || (due.more && missed.length)
    ? {
        count: skipped.length,
        atLeast: due.more,
        first: due.more ? due.from : (skipped[0] ?? due.from),
        last: skipped.length ? skipped[skipped.length - 1] : due.from,
      }
    : null;
  return { run: [...caughtUp, ...onTime], notRun };
}
