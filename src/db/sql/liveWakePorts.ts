import type { Knex } from 'knex';
import { WORKERS } from '../rows.ts';

/** Wake ports of workers on `host` seen since `seenSince`. */
export async function liveWakePorts(knex: Knex, host: string, seenSince: number): Promise<number[]> {
  const rows = await knex(WORKERS).select('wake_port').where({ host }).andWhere('seen_at', '>=', seenSince).whereNotNull('wake_port');
  return rows.map((r: { wake_port: number }) => Number(r.wake_port));
}
