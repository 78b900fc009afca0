import type { Knex } from 'knex';
import { WORKERS } from '../rows.ts';

/** Marks a worker as seen now. Returns false when its row is gone (it will register again). */
export async function touchWorker(knex: Knex, id: string, now: number): Promise<boolean> {
  return (await knex(WORKERS).update({ seen_at: now }).where({ id })) > 0;
}
