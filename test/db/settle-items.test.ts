/**
 * The fenced writes (`db/sql/settleItems.ts`, `writeResults.ts`) at the SQL level, on SQLite and MariaDB: an
 * outcome is written only under the claim that produced it, whatever else the same statement carries.
 */
import { describe, expect, it } from 'vitest';
import { settleItems } from '../../src/db/sql/settleItems.ts';
import { writeResults } from '../../src/db/sql/writeResults.ts';
import { claimItems } from '../../src/db/sql/claimItems.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue } from '../helpers/queue.ts';

describe.each(DIALECTS)('fenced settle on %s', (dialect) => {
  /** An item claimed under token `a`, taken back after its lease ran out, and claimed again under `b`. */
  async function reclaimed() {
    const q = await freshQueue(dialect);
    const { id } = await q.enqueue('t', {});
    const now = q.clock.now();
    const claim = (token: string, at: number) => claimItems(q.knex, { token, owner: 'test', now: at, leaseUntil: at + 1000, limit: 10, types: null });
    expect((await claim('a', now)).map((r) => r.id)).toEqual([id]);
    // Its lease runs out and it is taken back (as lease expiry writes it: fenced by the old token, a trial counted).
    expect(await settleItems(q.knex, [{ id, token: 'a', status: 'need_retry', runAt: now + 2000, results: '{}' }], now + 2000)).toBe(1);
    expect((await claim('b', now + 2000)).map((r) => r.id)).toEqual([id]);
    return { q, id, now };
  }

  it('the same id under a stale and a current token in one statement: only the current outcome is written', async () => {
    for (const order of ['stale first', 'current first'] as const) {
      const { q, id, now } = await reclaimed();
      const stale = { id, token: 'a', status: 'need_retry' as const, runAt: now + 60_000, results: '{"h":{"ok":false,"error":"run #1 failed","at":"x","runs":1}}' };
      const current = { id, token: 'b', status: 'done' as const, runAt: now, results: '{"h":{"ok":true,"at":"y","runs":2}}' };
      const written = await settleItems(q.knex, order === 'stale first' ? [stale, current] : [current, stale], now + 2100);
      expect(written, order).toBe(1);
      const item = await q.admin.get(id);
      expect(item, order).toMatchObject({ status: 'done', results: { h: { ok: true, runs: 2 } } });
      expect(item?.trials, order).toBe(2); // the expiry's trial and the current claim's, not the stale one's
    }
  });

  it('partial results of a stale claim do not overwrite the current claim’s', async () => {
    for (const order of ['stale first', 'current first'] as const) {
      const { q, id } = await reclaimed();
      const current = { id, token: 'b', results: '{"h":{"ok":true,"at":"y","runs":1}}' };
      const stale = { id, token: 'a', results: '{"old":{"ok":true,"at":"x","runs":1}}' };
      expect(await writeResults(q.knex, order === 'stale first' ? [stale, current] : [current, stale]), order).toBe(1);
      expect((await q.admin.get(id))?.results, order).toEqual({ h: { ok: true, at: 'y', runs: 1 } });
    }
  });
});
