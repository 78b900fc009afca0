import type { Knex } from 'knex';
import { WORKERS, type WorkerRow } from '../rows.ts';

/** Records a worker as running (or refreshes its row). */
export async function registerWorker(knex: Knex, row: WorkerRow): Promise<void> {
  await knex(WORKERS).insert(row).onConflict('id').merge();
}
