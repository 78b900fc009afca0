/**
 * The crontab's global switch, a setting in `signalq_settings`: on unless turned off.
 */
import type { Knex } from 'knex';
import { readSetting } from '../db/sql/readSetting.ts';
import { writeSetting } from '../db/sql/writeSetting.ts';

const SWITCH = 'crontab.enabled';

/** Whether the crontab runs (true unless `cron off` turned it off). */
export async function crontabEnabled(db: Knex | Knex.Transaction): Promise<boolean> {
  return (await readSetting(db, SWITCH)) !== '0';
}

/** Turns the whole crontab on or off. */
export async function setCrontabEnabled(db: Knex | Knex.Transaction, on: boolean): Promise<void> {
  await writeSetting(db, SWITCH, on ? '1' : '0');
}
