/**
 * A crontab runner on a test queue, driven by the test's clock: the test calls `runDue(now)` and `finishRuns()`
 * itself (no timers), as the node-cron timers and the reload would.
 */
import type { Queue } from '../../src/queue/queue.ts';
import { CrontabRunner, type CrontabRunnerOptions } from '../../src/schedules/scheduler.ts';

export function runnerOf(q: Queue<any>, options: CrontabRunnerOptions = {}, logsKept = 100): CrontabRunner {
  return new CrontabRunner({
    knex: q.knex, signals: q.signals, now: () => q.clock.now(), tablesReady: () => q.migrate().then(() => {}),
    maxTrials: q.options.maxTrials, logsKept, takesType: null,
  }, options);
}

/** The items a cron enqueued, by type, oldest first. */
export async function itemsOf(q: Queue<any>, type: string): Promise<{ id: number; status: string }[]> {
  return q.knex('signalq_items').select('id', 'status').where({ type }).orderBy('id');
}

/** The tick rows of a cron: scheduled time, item, status. */
export async function runsOf(q: Queue<any>, cron: string): Promise<{ scheduled_at: number; item_id: number | null; status: string | null }[]> {
  const rows = await q.knex('signalq_cron_runs').select('scheduled_at', 'item_id', 'status').where({ cron_name: cron }).orderBy('scheduled_at');
  return rows.map((r: any) => ({ scheduled_at: Number(r.scheduled_at), item_id: r.item_id == null ? null : Number(r.item_id), status: r.status }));
}
