import type { Knex } from 'knex';
import { CRON_RUNS } from '../cron-rows.ts';

/**
 * Writes a run's final status and message, once: only while it has none. Returns whether this call wrote it (so
 * of several workers finishing the same run, one announces it).
 */
export async function finishCronRun(db: Knex, id: number, status: string, message: string, now: number): Promise<boolean> {
  return (await db(CRON_RUNS).update({ status, message, finished_at: now }).where({ id }).whereNull('status')) === 1;
}
