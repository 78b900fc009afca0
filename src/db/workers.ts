/**
 * SQL on the workers table: a running worker's registration and heartbeat, and the wake ports of live workers
 * on a host.
 */
import type { Knex } from 'knex';
import { WORKERS, type WorkerRow } from './rows.ts';

export type { WorkerRow };

/** Records a worker as running (or refreshes its row). */
export async function registerWorker(knex: Knex, row: WorkerRow): Promise<void> {
  await knex(WORKERS).insert(row).onConflict('id').merge();
}

/** Marks a worker as seen now. Returns false when its row is gone (it will register again). */
export async function touchWorker(knex: Knex, id: string, now: number): Promise<boolean> {
  return (await knex(WORKERS).update({ seen_at: now }).where({ id })) > 0;
}

/** Removes a worker's row (graceful stop), and rows of workers not seen since `staleBefore`. */
export async function removeWorker(knex: Knex, id: string): Promise<void> {
  await knex(WORKERS).delete().where({ id });
}

/** Deletes rows of workers not seen since `staleBefore` (they died without saying so). */
export async function removeStaleWorkers(knex: Knex, staleBefore: number): Promise<number> {
  return knex(WORKERS).delete().where('seen_at', '<', staleBefore);
}

/** Wake ports of workers on `host` seen since `seenSince`. */
export async function liveWakePorts(knex: Knex, host: string, seenSince: number): Promise<number[]> {
  const rows = await knex(WORKERS).select('wake_port').where({ host }).andWhere('seen_at', '>=', seenSince).whereNotNull('wake_port');
  return rows.map((r: { wake_port: number }) => Number(r.wake_port));
}

/** Every registered worker, most recently started first. */
export async function listWorkers(knex: Knex): Promise<WorkerRow[]> {
  return knex(WORKERS).select('*').orderBy('started_at', 'desc');
}
