/**
 * Leases with no database: a fake clock and a fake lease store. Expiry decides each expired item like any failed
 * trial (backoff, error when out of trials, signalq's verdict in its results) and reports it with the same events.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Signals } from '../../src/signals.ts';
import { Leases, type LeaseStore } from '../../src/queue/leases.ts';
import { SettleWriter, type OutcomeStore } from '../../src/queue/settle-writer.ts';
import type { ItemRow } from '../../src/db/rows.ts';
import type { Settlement } from '../../src/db/sql/settleItems.ts';

const NOW = Date.UTC(2026, 0, 1);
const OPTS = { leaseMs: 3000, backoffBaseMs: 1000, backoffMaxMs: 60_000 };

function expiredRow(id: number, trials: number, results: object = {}): ItemRow & { claim_token: string } {
  return {
    id, type: 't', payload: '{}', status: 'in_progress', trials, max_trials: 3, priority: 0, run_at: NOW - 10_000,
    results: JSON.stringify(results), dedupe_key: null, owner: 'host-a:123', lease_until: NOW - 1, created_at: NOW - 20_000,
    last_try_at: NOW - 5000, finished_at: null, claim_token: `token-${id}`,
  };
}

function setUp(rows: (ItemRow & { claim_token: string })[]) {
  const signals = new Signals();
  const settled: Settlement[] = [];
  const outcomes: OutcomeStore = {
    settle: async (group) => (settled.push(...group), group.length),
    writeResults: async (e) => e.length,
    readResults: async () => new Map(),
    ping: async () => {},
  };
  const writer = new SettleWriter(outcomes, signals, () => NOW, 500, 1);
  let pending = [...rows];
  const store: LeaseStore & { renewed: string[][]; handBacks: number } = {
    renewed: [],
    handBacks: 0,
    renew: async (tokens) => (store.renewed.push(tokens), tokens.length),
    handBack: async () => {
      if (++store.handBacks < 3) throw new Error('connect ECONNREFUSED');
      return 1;
    },
    readExpired: async () => {
      const out = pending;
      pending = [];
      return out;
    },
  };
  const leases = new Leases(store, signals, { now: () => NOW }, OPTS, writer);
  return { leases, store, signals, settled };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Leases', () => {
  it('takes back an expired item as a failed trial: need_retry after the backoff, its written successes kept', async () => {
    const { leases, signals, settled } = setUp([expiredRow(1, 0, { quick: { ok: true, at: 'x', runs: 1 } })]);
    const retried: number[] = [];
    let expired = 0;
    signals.on('itemRetry', (e) => void retried.push(e.item.id));
    signals.on('leasesExpired', (e) => void (expired += e.count));
    expect(await leases.expire()).toBe(1);
    expect(settled).toHaveLength(1);
    const s = settled[0];
    expect(s).toMatchObject({ id: 1, token: 'token-1', status: 'need_retry' });
    expect(s.runAt).toBeGreaterThanOrEqual(NOW + OPTS.backoffBaseMs / 2);
    expect(s.runAt).toBeLessThanOrEqual(NOW + OPTS.backoffBaseMs);
    const results = JSON.parse(s.results);
    expect(results.quick).toEqual({ ok: true, at: 'x', runs: 1 });
    expect(results.signalq.error).toMatch(/lease ran out during trial 1 \(held by host-a:123\)/);
    expect(retried).toEqual([1]);
    expect(expired).toBe(1);
  });

  it('an expired item on its last trial goes to error and is reported as itemError', async () => {
    const { leases, signals, settled } = setUp([expiredRow(2, 2)]);
    const errors: number[] = [];
    signals.on('itemError', (e) => void errors.push(e.item.id));
    await leases.expire();
    expect(settled[0]).toMatchObject({ id: 2, status: 'error' });
    expect(errors).toEqual([2]);
  });

  it('renews held claims every third of the lease, and stops once none is held', async () => {
    vi.useFakeTimers();
    const { leases, store } = setUp([]);
    leases.hold('a');
    leases.hold('b');
    await vi.advanceTimersByTimeAsync(1000);
    expect(store.renewed).toEqual([['a', 'b']]);
    leases.drop('a');
    await vi.advanceTimersByTimeAsync(1000);
    expect(store.renewed.at(-1)).toEqual(['b']);
    leases.drop('b');
    const calls = store.renewed.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(store.renewed.length).toBe(calls);
  });

  it('hands back unstarted items, trying again while the database is away', async () => {
    const { leases, store, signals } = setUp([]);
    const errors: string[] = [];
    signals.on('databaseError', (e) => void errors.push(e.during));
    await leases.handBack('tok', [1, 2]);
    expect(store.handBacks).toBe(3);
    expect(errors).toEqual(['handing back unstarted items', 'handing back unstarted items']);
  });
});
