import type { Knex } from 'knex';
import { WORKERS } from '../rows.ts';

/** Deletes rows of workers not seen since `staleBefore` (they died without saying so). */
export async function removeStaleWorkers(knex: Knex, staleBefore: number): Promise<number> {
  return knex(WORKERS).delete().where('seen_at', '<', staleBefore);
}
