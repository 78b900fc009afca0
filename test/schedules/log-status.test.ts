/**
 * A cron run's log status from its item, without a database.
 */
import { describe, expect, it } from 'vitest';
import { runStatusOf } from '../../src/schedules/log-status.ts';

const ok = (extra = {}) => JSON.stringify({ h: { ok: true, at: 'x', runs: 1, ...extra } });

describe('runStatusOf', () => {
  it('done on the first trial: OK', () => {
    expect(runStatusOf(1, { id: 1, status: 'done', trials: 1, results: ok() }).status).toBe('OK');
  });
  it('done after retries: WARN, saying how many trials', () => {
    expect(runStatusOf(1, { id: 1, status: 'done', trials: 3, results: ok() })).toEqual({ status: 'WARN', message: 'item 1 done after 3 trials' });
  });
  it('done with a handler warning: WARN, with the warning', () => {
    const r = runStatusOf(1, { id: 1, status: 'done', trials: 1, results: ok({ warning: 'disk 91% full' }) });
    expect(r).toEqual({ status: 'WARN', message: 'item 1 done with warnings: h: disk 91% full' });
  });
  it('error: FAILURE, with the failing handlers\' errors', () => {
    const results = JSON.stringify({ h: { ok: false, error: 'boom', at: 'x', runs: 2 } });
    expect(runStatusOf(1, { id: 1, status: 'error', trials: 2, results })).toEqual({ status: 'FAILURE', message: 'item 1 failed after 2 trial(s): h: boom' });
  });
  it('canceled: FAILURE', () => {
    expect(runStatusOf(1, { id: 1, status: 'canceled', trials: 1, results: '{}' }).status).toBe('FAILURE');
  });
  it('unfinished: RUNNING', () => {
    for (const status of ['pending', 'in_progress', 'need_retry'] as const) expect(runStatusOf(1, { id: 1, status, trials: 1, results: '{}' }).status).toBe('RUNNING');
  });
  it('item gone: WARN saying so', () => {
    expect(runStatusOf(7, null)).toEqual({ status: 'WARN', message: 'item 7 is gone (deleted or purged) before its outcome was read' });
  });
});
