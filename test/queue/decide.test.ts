import { describe, expect, it } from 'vitest';
import { decideAfterTrial } from '../../src/queue/decide.ts';
import { retryDelayMs } from '../../src/queue/backoff.ts';
import { MAX_RUN_AT_MS } from '../../src/queue/validate.ts';

const policy = { baseMs: 1000, maxMs: 60_000 };
const now = Date.UTC(2026, 0, 1);

describe('retryDelayMs', () => {
  it('doubles per trial, with jitter in [half, full), capped', () => {
    expect(retryDelayMs(1, policy, () => 0)).toBe(500);
    expect(retryDelayMs(1, policy, () => 0.999999)).toBe(1000);
    expect(retryDelayMs(3, policy, () => 0)).toBe(2000);
    expect(retryDelayMs(30, policy, () => 0.999999)).toBe(60_000);
    expect(retryDelayMs(1000, policy, () => 0)).toBe(30_000);
  });
});

describe('decideAfterTrial', () => {
  const item = { trials: 0, maxTrials: 3, runAt: now - 5, results: {} };

  it('is done when every handler succeeded, keeping earlier successes', () => {
    const d = decideAfterTrial({ ...item, results: { a: { ok: true, at: 'x', runs: 1 } } }, [{ name: 'b', ok: true }], now, policy);
    expect(d.status).toBe('done');
    expect(d.results.a).toEqual({ ok: true, at: 'x', runs: 1 });
    expect(d.results.b).toMatchObject({ ok: true, runs: 1 });
    expect(d.runAt).toBe(item.runAt);
  });

  it('needs a retry after the backoff when a handler failed with trials left', () => {
    const d = decideAfterTrial(item, [{ name: 'a', ok: true }, { name: 'b', ok: false, error: 'nope' }], now, policy, () => 0);
    expect(d.status).toBe('need_retry');
    expect(d.runAt).toBe(now + 500);
    expect(d.results.b).toMatchObject({ ok: false, error: 'nope', runs: 1 });
  });

  it('goes to error on the last trial, or at once on a permanent failure', () => {
    expect(decideAfterTrial({ ...item, trials: 2 }, [{ name: 'b', ok: false }], now, policy).status).toBe('error');
    expect(decideAfterTrial(item, [{ name: 'b', ok: false, permanent: true }], now, policy).status).toBe('error');
  });

  it('counts runs per handler across trials', () => {
    const d = decideAfterTrial({ ...item, results: { b: { ok: false, error: 'e', at: 'x', runs: 2 } } }, [{ name: 'b', ok: true }], now, policy);
    expect(d.results.b).toMatchObject({ ok: true, runs: 3 });
    expect(d.results.b.error).toBeUndefined();
  });
});

describe('decideAfterTrial with a requested retry time', () => {
  it('waits the longer of the backoff and what a handler asked for', () => {
    const item = { trials: 0, maxTrials: 5, runAt: now, results: {} };
    expect(decideAfterTrial(item, [{ name: 'a', ok: false, retryAfterMs: 30_000 }], now, policy, () => 0).runAt).toBe(now + 30_000);
    expect(decideAfterTrial(item, [{ name: 'a', ok: false, retryAfterMs: 10 }], now, policy, () => 0).runAt).toBe(now + 500);
  });

  it('keeps the next run time within what a Date and the database hold, however long a handler asks to wait', () => {
    for (const retryAfterMs of [1e19, Number.MAX_VALUE, Infinity, NaN]) {
      const d = decideAfterTrial({ trials: 0, maxTrials: 3, runAt: now, results: {} }, [{ name: 'a', ok: false, error: 'later', retryAfterMs }], now, policy, () => 0);
      expect(d.status).toBe('need_retry');
      expect(Number.isFinite(d.runAt)).toBe(true);
      expect(d.runAt).toBeLessThanOrEqual(MAX_RUN_AT_MS);
      expect(new Date(d.runAt).toISOString()).toMatch(/^[+-]?\d+-/);
    }
  });
});

