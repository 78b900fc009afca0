/**
 * The overview's cache, with a fake admin and clock: one count serves every request for its interval, a long count
 * is repeated less often, old numbers are answered at once while one fresh count runs, and numbers past the stale
 * limit are never served; the overview page goes out with placeholders rather than wait for a long count.
 */
import { describe, expect, it } from 'vitest';
import { OverviewCache, recountAfterMs } from '../../src/dashboard/overview-cache.ts';
import type { Admin } from '../../src/admin/admin.ts';
import { overviewPage } from '../../src/dashboard/pages/overview.ts';

function fakeAdmin(clock: { now: number }, readMs: () => number) {
  let reads = 0;
  const admin = {
    async stats() {
      reads++;
      clock.now += readMs();
      return { total: reads } as any;
    },
    async throughput() {
      return {} as any;
    },
  };
  return { admin: admin as unknown as Admin, reads: () => reads };
}

describe('overview cache', () => {
  it('waits a fifth of the time at most: recounts after the minimum or five times the last count', () => {
    expect(recountAfterMs(10, 2_000)).toBe(2_000);
    expect(recountAfterMs(1_000, 2_000)).toBe(5_000);
  });

  it('counts once for concurrent requests and serves that count for its interval', async () => {
    const clock = { now: 1_000_000 };
    const f = fakeAdmin(clock, () => 100);
    const cache = new OverviewCache(f.admin, 2_000, 60_000, () => clock.now);
    const [a, b] = await Promise.all([cache.get(), cache.get()]);
    expect(f.reads()).toBe(1);
    expect(a).toBe(b);
    expect(a).toMatchObject({ stats: { total: 1 }, readMs: 100, countedAt: new Date(1_000_000) });
    clock.now += 1_500;
    expect(await cache.get()).toBe(a);
    expect(f.reads()).toBe(1);
  });

  it('answers old numbers at once while one fresh count runs, then the fresh ones', async () => {
    const clock = { now: 0 };
    const f = fakeAdmin(clock, () => 10);
    const cache = new OverviewCache(f.admin, 2_000, 60_000, () => clock.now);
    const first = await cache.get();
    clock.now += 3_000;
    expect(await cache.get()).toBe(first); // old, answered at once; a count started
    await new Promise((r) => setTimeout(r, 0)); // lets the fake count finish
    const second = await cache.get();
    expect(f.reads()).toBe(2);
    expect(second.stats.total).toBe(2);
  });

  it('repeats a long count less often', async () => {
    const clock = { now: 0 };
    const f = fakeAdmin(clock, () => 1_000);
    const cache = new OverviewCache(f.admin, 2_000, 60_000, () => clock.now);
    await cache.get();
    clock.now += 3_500; // 4.5 s after the count started: past 2 s, within 5 × 1 s
    await cache.get();
    expect(f.reads()).toBe(1);
    clock.now += 1_500;
    await cache.get();
    expect(f.reads()).toBe(2);
  });

  it('never serves numbers past the stale limit, and counts on every request with a maximum age of 0', async () => {
    const clock = { now: 0 };
    const f = fakeAdmin(clock, () => 10);
    const cache = new OverviewCache(f.admin, 2_000, 60_000, () => clock.now);
    await cache.get();
    clock.now += 61_000;
    expect((await cache.get()).stats.total).toBe(2);
    const uncached = new OverviewCache(f.admin, 0, 60_000, () => clock.now);
    await uncached.get();
    await uncached.get();
    expect(f.reads()).toBe(4);
  });

  it('lets the page go out with placeholders when a count takes longer than a moment, and serves it once done', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let reads = 0;
    const admin = {
      async stats() {
        reads++;
        await gate;
        return { total: 7, counts: {}, types: [], oldestDueAt: null } as any;
      },
      async throughput() {
        return {} as any;
      },
    } as unknown as Admin;
    const cache = new OverviewCache(admin, 2_000, 60_000);
    expect(await cache.getWithin(50)).toBeNull();
    const waiting = cache.get(); // what /api/overview does: waits for the same count
    release();
    expect((await waiting).stats.total).toBe(7);
    expect((await cache.getWithin(50))!.stats.total).toBe(7);
    expect(reads).toBe(1);
  });

  it('renders the overview with placeholders while counting, with every element its script fills in', () => {
    const page = String(overviewPage(null));
    expect(page).toContain('counting now…');
    for (const id of ['counted-age', 'read-ms', 'count-total', 'oldest-due', 'types-body', 'types-empty', 'chart-done', 'chart-error', 'chart-max', 'rate-done', 'rate-error']) {
      expect(page).toContain(`id="${id}"`);
    }
    expect(page).toMatch(/data-count="pending">…</);
    expect(page).toContain('over the last 10 min');
  });
});
