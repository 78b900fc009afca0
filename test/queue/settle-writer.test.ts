/**
 * The settle writer with no database: a fake outcome store that records statements, goes away, refuses one item,
 * or reports claims lost.
 */
import { describe, expect, it } from 'vitest';
import { Signals } from '../../src/signals.ts';
import { SettleWriter, type OutcomeStore, type PendingSettlement, type WrittenOutcome } from '../../src/queue/settle-writer.ts';
import type { Settlement } from '../../src/db/sql/settleItems.ts';
import type { Item } from '../../src/types.ts';

const NOW = Date.UTC(2026, 0, 1);

function item(id: number): Item {
  return {
    id, type: 't', payload: {}, status: 'in_progress', trials: 0, maxTrials: 3, priority: 0, runAt: new Date(NOW), results: {},
    key: null, owner: 'test', leaseUntil: new Date(NOW + 60_000), createdAt: new Date(NOW), lastTryAt: new Date(NOW), finishedAt: null,
    startedAt: null, invoker: null, scope: null, progress: null, summary: null, cancelRequested: false,
  };
}

function outcome(id: number, status: 'done' | 'need_retry' | 'error' = 'done', token = 'tok'): PendingSettlement {
  const results = { h: status === 'done' ? { ok: true, at: 'x', runs: 1 } : { ok: false, error: 'no', at: 'x', runs: 1 } };
  return { id, token, status, runAt: NOW, results: JSON.stringify(results), item: item(id), decision: { status, results, runAt: NOW } };
}

/** An in-memory table of stored results, fenced by token like the real one. */
class FakeStore implements OutcomeStore {
  statements: Settlement[][] = [];
  stored = new Map<number, string>();
  tokens = new Map<number, string>();
  up = true;
  refuse: (s: Settlement) => boolean = () => false;

  async settle(group: Settlement[]): Promise<number> {
    if (!this.up) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    if (group.some(this.refuse)) throw new Error('Out of range value for column run_at');
    this.statements.push(group);
    let written = 0;
    for (const s of group) {
      if ((this.tokens.get(s.id) ?? s.token) !== s.token) continue; // the fence
      this.stored.set(s.id, s.results);
      this.tokens.delete(s.id);
      written++;
    }
    return written;
  }
  async writeResults(entries: { id: number; token: string; results: string }[]): Promise<number> {
    if (!this.up) throw new Error('connect ECONNREFUSED');
    for (const e of entries) this.stored.set(e.id, e.results);
    return entries.length;
  }
  async readResults(ids: number[]): Promise<Map<number, string>> {
    return new Map(ids.filter((id) => this.stored.has(id)).map((id) => [id, this.stored.get(id)!]));
  }
  async ping(): Promise<void> {
    if (!this.up) throw new Error('connect ECONNREFUSED');
  }
}

function writerOn(store: FakeStore, flushSize = 100) {
  const signals = new Signals();
  const writer = new SettleWriter(store, signals, () => NOW, flushSize, 1);
  const written: WrittenOutcome[] = [];
  writer.subscribe((w) => void written.push(...w));
  return { writer, signals, written };
}

describe('SettleWriter', () => {
  it('writes many outcomes in one statement and tells subscribers what each became', async () => {
    const store = new FakeStore();
    const { writer, written } = writerOn(store);
    writer.add(outcome(1));
    writer.add(outcome(2, 'need_retry'));
    writer.add(outcome(3, 'error'));
    expect(writer.backlog).toBe(3);
    await writer.drain();
    expect(store.statements.map((g) => g.map((s) => s.id))).toEqual([[1, 2, 3]]);
    expect(written.map((w) => `${w.settlement.id}:${w.kind}`)).toEqual(['1:done', '2:retry', '3:error']);
    expect(writer.backlog).toBe(0);
  });

  it('flushes at once when a statement’s worth is waiting, and whenBelow follows the backlog', async () => {
    const store = new FakeStore();
    const { writer } = writerOn(store, 2);
    let below = false;
    writer.add(outcome(1));
    writer.add(outcome(2));
    writer.add(outcome(3));
    void writer.whenBelow(2).then(() => (below = true));
    expect(below).toBe(false);
    await writer.drain();
    expect(below).toBe(true);
    expect(store.statements.map((g) => g.length)).toEqual([2, 1]);
  });

  it('keeps outcomes while the database is away and writes them once it is back', async () => {
    const store = new FakeStore();
    store.up = false;
    const { writer, signals, written } = writerOn(store);
    const errors: number[] = [];
    signals.on('databaseError', (e) => void errors.push(e.retryInMs));
    writer.add(outcome(1));
    writer.add(outcome(2));
    const drained = writer.drain();
    await new Promise((r) => setTimeout(r, 200));
    expect(written).toEqual([]);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors[1]).toBeGreaterThan(errors[0]); // backoff grows
    store.up = true;
    await drained;
    expect(written.map((w) => w.kind)).toEqual(['done', 'done']);
    expect(store.stored.size).toBe(2);
  });

  it('isolates an outcome the database refuses while it is up: the others are written, that one is settled as failed', async () => {
    const store = new FakeStore();
    store.refuse = (s) => s.id === 3 && s.status === 'done';
    const { writer, signals, written } = writerOn(store);
    const itemErrors: number[] = [];
    signals.on('itemError', (e) => void itemErrors.push(e.item.id));
    for (let id = 1; id <= 5; id++) writer.add(outcome(id));
    await writer.drain();
    expect(written.filter((w) => w.kind === 'done').map((w) => w.settlement.id).sort()).toEqual([1, 2, 4, 5]);
    const failed = written.find((w) => w.settlement.id === 3)!;
    expect(failed.kind).toBe('error');
    expect(JSON.parse(store.stored.get(3)!).signalq.error).toMatch(/refused this trial's outcome \(Out of range value/);
    expect(itemErrors).toEqual([3]);
    expect(writer.backlog).toBe(0);
  });

  it('reports outcomes whose claim was taken over as lost, and does not announce them', async () => {
    const store = new FakeStore();
    store.tokens.set(2, 'newer-claim');
    store.stored.set(2, '{"h":{"ok":true,"at":"newer","runs":2}}');
    const { writer, signals, written } = writerOn(store);
    const done: number[] = [];
    let lost = 0;
    signals.on('itemDone', (e) => void done.push(e.item.id));
    signals.on('claimLost', (e) => void (lost += e.count));
    writer.add(outcome(1));
    writer.add(outcome(2));
    await writer.drain();
    expect(written.map((w) => `${w.settlement.id}:${w.kind}`)).toEqual(['1:done', '2:lost']);
    expect(done).toEqual([1]);
    expect(lost).toBe(1);
  });

  it('drops a partial result once its own claim settles, not another claim’s', async () => {
    const store = new FakeStore();
    store.up = false; // hold everything in memory while it is queued
    const { writer } = writerOn(store);
    writer.addPartial({ id: 7, token: 'old', results: () => '{"a":{"ok":true,"at":"old","runs":1}}' });
    writer.addPartial({ id: 7, token: 'new', results: () => '{"b":{"ok":true,"at":"new","runs":1}}' });
    writer.add(outcome(7, 'done', 'old'));
    const writes: string[] = [];
    store.writeResults = async (entries) => (writes.push(...entries.map((e) => `${e.id}:${e.token}`)), entries.length);
    store.up = true;
    await writer.drain();
    expect(writes).toEqual(['7:new']);
  });
});
