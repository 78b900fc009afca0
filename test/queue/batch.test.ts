import { describe, expect, it } from 'vitest';
import { Batch, addTally, emptyTally } from '../../src/queue/batch.ts';

describe('Batch', () => {
  it('resolves written once every claimed item is accounted for, with one tally', async () => {
    const b = new Batch('t1', 4);
    let summary: unknown = null;
    void b.written.then((s) => (summary = s));
    b.record('done');
    b.record('retry');
    b.record('handedBack', 1);
    await Promise.resolve();
    expect(summary).toBeNull();
    expect(b.open).toBe(true);
    b.record('lost');
    await b.written;
    expect(summary).toMatchObject({ claimed: 4, done: 1, retry: 1, error: 0, handedBack: 1, lost: 1 });
    expect(b.open).toBe(false);
  });

  it('ignores outcomes past the claimed count, and an empty batch is written at once', async () => {
    const b = new Batch('t2', 1);
    b.record('done');
    b.record('error', 3);
    expect(await b.written).toMatchObject({ done: 1, error: 0 });
    expect(await new Batch('t3', 0).written).toMatchObject({ claimed: 0, done: 0 });
  });

  it('adds tallies into totals that carry other fields', () => {
    const totals = { batches: 2, claimed: 10, ...emptyTally() };
    addTally(totals, { done: 3, retry: 1, error: 1, canceled: 0, handedBack: 2, lost: 0 });
    addTally(totals, { done: 1, retry: 0, error: 0, canceled: 1, handedBack: 0, lost: 1 });
    expect(totals).toEqual({ batches: 2, claimed: 10, done: 4, retry: 1, error: 1, canceled: 1, handedBack: 2, lost: 1 });
  });
});
