import { describe, expect, it } from 'vitest';
import { itemFromRow, type ItemRow } from '../../src/db/rows.ts';
import { formatItem, formatItemLine, formatStats } from '../../src/cli/format.ts';
import { MAX_RUN_AT_MS } from '../../src/queue/validate.ts';

const row = (over: Partial<ItemRow> = {}): ItemRow => ({
  id: 7, type: 'job', payload: '{"n":1}', status: 'pending', trials: 0, max_trials: 10, priority: 0, run_at: 1_800_000_000_000,
  results: '{}', dedupe_key: null, owner: null, lease_until: null, created_at: 1_800_000_000_000, last_try_at: null, finished_at: null,
  ...over,
});

describe('itemFromRow with times beyond what a Date holds (rows of an older version or another program)', () => {
  it('reads them as the nearest instant a Date holds, never as an Invalid Date', () => {
    const i = itemFromRow(row({ run_at: 1e17, lease_until: 9_000_000_000_000_000, created_at: -1e17, last_try_at: MAX_RUN_AT_MS }));
    expect(i.runAt.getTime()).toBe(MAX_RUN_AT_MS);
    expect(i.leaseUntil!.getTime()).toBe(MAX_RUN_AT_MS);
    expect(i.createdAt.getTime()).toBe(-MAX_RUN_AT_MS);
    expect(i.lastTryAt!.getTime()).toBe(MAX_RUN_AT_MS);
    expect(i.finishedAt).toBeNull();
    // MySQL hands back a BIGINT past 2^53 as a string.
    expect(itemFromRow(row({ run_at: '100000000000000000' as unknown as number })).runAt.getTime()).toBe(MAX_RUN_AT_MS);
    // --json shows the clamped instant, not null.
    expect(JSON.parse(JSON.stringify(i)).runAt).toBe('+275760-09-13T00:00:00.000Z');
  });
  it('keeps times within range as they are', () => {
    expect(itemFromRow(row()).runAt.getTime()).toBe(1_800_000_000_000);
  });
});

describe('text formatters', () => {
  it('show a time at the edge of what a Date holds, saying the stored one may be beyond it', () => {
    const text = formatItem(itemFromRow(row({ run_at: 1e17, lease_until: 1e17, owner: 'h:1' })));
    expect(text).toMatch(/^run at {4}\+275760-09-13T00:00:00\.000Z \(the latest a Date holds; the stored time may be later\)$/m);
    expect(text).toMatch(/lease until \+275760-09-13T00:00:00\.000Z \(the latest/);
    expect(formatItemLine(itemFromRow(row({ created_at: -1e17 })))).toMatch(/-271821-04-20T00:00:00\.000Z \(the earliest a Date holds; the stored time may be earlier\)/);
  });
  it('never throw on an invalid time (text in a SQLite column), showing it as such', () => {
    const bad = new Date(NaN);
    const item = { ...itemFromRow(row()), runAt: bad, createdAt: bad, lastTryAt: bad, finishedAt: bad, leaseUntil: bad, owner: 'h:1' };
    expect(formatItem(item)).toMatch(/^run at {4}invalid time$/m);
    expect(formatItemLine(item)).toMatch(/\tinvalid time/);
    expect(formatStats({ counts: {}, total: 0, oldestDueAt: bad, types: [] } as any)).toMatch(/oldest runnable item due at an invalid time/);
  });
});
