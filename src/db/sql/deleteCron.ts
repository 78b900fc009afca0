import type { Knex } from 'knex';
import { CRONS, CRON_RUNS } from '../cron-rows.ts';

/** Removes a cron and its log entries (in one transaction, or in the caller's). Returns whether it existed. */
export async function deleteCron(db: Knex | Knex.Transaction, name: string): Promise<boolean> {
  const run = async (trx: Knex | Knex.Transaction) => {
    await trx(CRON_RUNS).delete().where({ cron_name: name });
    return (await trx(CRONS).delete().where({ name })) > 0;
  };
  return (db as Knex.Transaction).isTransaction ? run(db) : (db as Knex).transaction(run);
}
