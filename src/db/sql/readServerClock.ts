/**
 * The database server's clock.
 */
import type { Knex } from 'knex';
import { dialectOf } from '../dialect.ts';

/** The database server's clock, in epoch ms (so leases agree across hosts whose clocks differ). */
export function readServerClock(knex: Knex): Promise<number> {
  return dialectOf(knex).readServerClock(knex);
}
