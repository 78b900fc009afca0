import type { Knex } from 'knex';
import { WORKERS, type WorkerRow } from '../rows.ts';

/** Every registered worker, most recently started first. */
export async function listWorkers(knex: Knex): Promise<WorkerRow[]> {
  return knex(WORKERS).select('*').orderBy('started_at', 'desc');
}
