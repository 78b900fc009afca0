/**
 * Exactly once per tick: three workers (three queues, each with its own connection pool) run the same crontab on
 * MariaDB, all at once, each with a clock a few seconds off the others', and every tick enqueues one item.
 */
import { describe, expect, it } from 'vitest';
import { freshQueue, sameDatabase } from '../helpers/queue.ts';
import { itemsOf, runnerOf, runsOf } from './helpers.ts';

const MIN = 60_000;
const TICKS = 12;

describe('three workers on MariaDB running the same crontab', () => {
  it('enqueue each tick exactly once, whatever their clock skew', async () => {
    const q = await freshQueue('mysql');
    for (const missed of ['skip', 'all'] as const) await q.crontab.add({ name: `c-${missed}`, expression: '* * * * *', type: `t-${missed}`, missed });
    const t = (await q.crontab.get('c-skip'))!.nextRunAt!.getTime();
    const workers = [q, await sameDatabase(q), await sameDatabase(q)].map((w) => runnerOf(w));
    const skews = [0, 2_500, -2_500];

    for (let i = 0; i < TICKS; i++) {
      const tick = t + i * MIN;
      // Each worker looks at the tick's time and twice after, by its own clock, all three at once each time.
      for (const moment of [tick, tick + 1_000, tick + 3_000]) {
        await Promise.all(workers.map((w, k) => w.runDue(moment + skews[k])));
      }
    }

    for (const type of ['t-skip', 't-all']) expect(await itemsOf(q, type)).toHaveLength(TICKS);
    for (const name of ['c-skip', 'c-all']) {
      const runs = await runsOf(q, name);
      expect(runs.map((r) => r.scheduled_at - t)).toEqual(Array.from({ length: TICKS }, (_, i) => i * MIN));
      expect(runs.every((r) => r.item_id != null)).toBe(true);
      expect(new Set(runs.map((r) => r.item_id)).size).toBe(TICKS);
    }
  });
});
