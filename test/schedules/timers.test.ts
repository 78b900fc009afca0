/**
 * The runner with its real timers (node-cron, every second) and its reload: items come on their own, a change made
 * by another process applies without a restart, and stop() stops it. Waits are generous safety nets, never
 * assertions on speed.
 */
import { describe, expect, it } from 'vitest';
import { freshQueue, sameDatabase } from '../helpers/queue.ts';
import { waitFor, sleep } from '../processes/cli-helpers.ts';
import { itemsOf } from './helpers.ts';

describe('the crontab runner with node-cron timers', () => {
  it('enqueues on its own every second; a cron disabled elsewhere enqueues nothing more; stop() stops it', async () => {
    const q = await freshQueue('sqlite');
    const other = await sameDatabase(q); // the CLI or the dashboard
    await other.crontab.add({ name: 'beat', expression: '*/1 * * * * *', type: 'beat' });
    const started: number[] = [];
    q.on('cronStarted', (e) => started.push(e.itemId));
    await q.startCrontab({ reloadMs: 200 });
    await waitFor('two ticks to enqueue their items', () => started.length >= 2, 30_000);

    // Once disable() returns no runner can enqueue for it: each step reads it again, and moves it only while activated.
    await other.crontab.setActivated('beat', false);
    const count = (await itemsOf(q, 'beat')).length;
    await sleep(2_500);
    expect((await itemsOf(q, 'beat')).length).toBe(count);

    await other.crontab.setActivated('beat', true);
    await waitFor('the enabled cron to enqueue again', async () => (await itemsOf(q, 'beat')).length > count, 30_000);
    q.stop();
    await q.close();
    const after = (await itemsOf(other, 'beat')).length;
    await sleep(1_500);
    expect((await itemsOf(other, 'beat')).length).toBe(after);
  });
});
