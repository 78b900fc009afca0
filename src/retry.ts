/**
 * Trying an operation again after a failure, with exponential backoff: the one retry loop that handing back items,
 * lock conflicts and the like share.
 */

/** How `retryWithBackoff` waits and when it gives up. */
export interface RetryPolicy {
  /** First pause, in ms; doubles after each failure. */
  firstMs: number;
  /** Longest pause, in ms. */
  maxMs: number;
  /** Give up after this many attempts. Default: no limit. */
  tries?: number;
  /** Give up once this much time has passed since the first attempt. Default: no limit. */
  giveUpAfterMs?: number;
  /** Which failures are worth another attempt. Default: all. */
  shouldRetry?: (error: unknown) => boolean;
  /** Told of each failure that will be retried, and the pause before the next attempt. */
  onError?: (error: unknown, retryInMs: number) => void;
  /** Adds up to this fraction of the pause at random, so callers that failed together do not retry together. Default 0. */
  jitter?: number;
}

/** Runs `fn` until it succeeds, pausing with exponential backoff between failures; rethrows when it gives up. */
export async function retryWithBackoff<T>(fn: () => Promise<T>, p: RetryPolicy): Promise<T> {
  const started = Date.now();
  for (let attempt = 1, pause = p.firstMs; ; attempt++, pause = Math.min(p.maxMs, pause * 2)) {
    try {
      return await fn();
    } catch (error) {
      const outOfTries = p.tries !== undefined && attempt >= p.tries;
      const outOfTime = p.giveUpAfterMs !== undefined && Date.now() + pause - started > p.giveUpAfterMs;
      if (outOfTries || outOfTime || (p.shouldRetry && !p.shouldRetry(error))) throw error;
      const wait = Math.round(pause * (1 + Math.random() * (p.jitter ?? 0)));
      p.onError?.(error, wait);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
