import type { Knex } from 'knex';
import { WORKERS } from '../rows.ts';

/** Removes a worker's row (graceful stop). */
export async function removeWorker(knex: Knex, id: string): Promise<void> {
  await knex(WORKERS).delete().where({ id });
}
