/**
 * The missed-run decision, without a database: which due ticks run and which are logged NOTRUN, per policy.
 */
import { describe, expect, it } from 'vitest';
import { decideDueTicks } from '../../src/schedules/policy.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0);
const ticks = (n: number) => Array.from({ length: n }, (_, i) => T0 + i * MIN);

describe('decideDueTicks', () => {
  it('runs the one due tick when it is on time, whatever the policy', () => {
    for (const policy of ['skip', 'once', 'all'] as const) {
      expect(decideDueTicks({ ticks: [T0], more: false, from: T0 }, T0 + 500, policy, 30_000, 10)).toEqual({ run: [T0], notRun: null });
    }
  });

  it('nothing due: nothing to do', () => {
    expect(decideDueTicks({ ticks: [], more: false, from: T0 }, T0, 'all', 30_000, 10)).toEqual({ run: [], notRun: null });
  });

  it('three ticks missed, the worker back after the grace: skip runs none, once one, all three', () => {
    const due = { ticks: ticks(3), more: false, from: T0 };
    const now = T0 + 2 * MIN + 45_000;
    expect(decideDueTicks(due, now, 'skip', 30_000, 10)).toEqual({ run: [], notRun: { count: 3, atLeast: false, first: T0, last: T0 + 2 * MIN } });
    expect(decideDueTicks(due, now, 'once', 30_000, 10)).toEqual({ run: [T0 + 2 * MIN], notRun: { count: 2, atLeast: false, first: T0, last: T0 + MIN } });
    expect(decideDueTicks(due, now, 'all', 30_000, 10)).toEqual({ run: ticks(3), notRun: null });
  });

  it('missed ticks and an on-time one: the on-time one runs under every policy, the missed ones by policy', () => {
    const due = { ticks: ticks(3), more: false, from: T0 };
    const now = T0 + 2 * MIN + 1_000;
    expect(decideDueTicks(due, now, 'skip', 30_000, 10).run).toEqual([T0 + 2 * MIN]);
    expect(decideDueTicks(due, now, 'skip', 30_000, 10).notRun).toMatchObject({ count: 2 });
    expect(decideDueTicks(due, now, 'once', 30_000, 10).run).toEqual([T0 + MIN, T0 + 2 * MIN]);
    expect(decideDueTicks(due, now, 'all', 30_000, 10)).toEqual({ run: ticks(3), notRun: null });
  });

  it('all runs at most maxCatchUp missed ticks, the latest; the older ones and those beyond the list are NOTRUN', () => {
    const due = { ticks: ticks(4), more: true, from: T0 - 100 * MIN };
    const d = decideDueTicks(due, T0 + 3 * MIN + 45_000, 'all', 30_000, 2);
    expect(d.run).toEqual([T0 + 2 * MIN, T0 + 3 * MIN]);
    expect(d.notRun).toEqual({ count: 2, atLeast: true, first: T0 - 100 * MIN, last: T0 + MIN });
  });
});
