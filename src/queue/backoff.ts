/**
 * How long an item waits before its next trial: exponential in the trials made, capped, with jitter so that
 * items that failed together do not all come back together.
 */

/** Backoff settings. */
export interface BackoffPolicy {
  /** Delay after the first failed trial, in ms. */
  baseMs: number;
  /** Longest delay, in ms. */
  maxMs: number;
}

/**
 * Delay before the next trial after `trials` failed trials (1 = first failure): `base * 2^(trials-1)`, capped
 * at `max`, then scaled by a random factor in [0.5, 1) ("equal jitter"). `random` is injectable for tests.
 */
export function retryDelayMs(trials: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, Math.min(trials - 1, 40)));
  return Math.round(exp * (0.5 + random() * 0.5));
}

