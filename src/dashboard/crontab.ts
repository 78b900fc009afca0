/**
 * The crontab as the dashboard shows and steers it, through `queue.crontab` (the CLI's `cron` commands'
 * functions): every cron with its expression in words, next run, last status and latest runs; enable, disable and
 * the global switch, each returning a one-line outcome. A read-only crontab (`SIGNALQ_CRONTAB_READONLY=1` on the
 * dashboard's host) refuses every change with `queue.crontab`'s own message.
 */
import type { CronListing, CronLogEntry, CrontabAdmin } from '../schedules/admin.ts';
import type { Cron } from '../schedules/crontab.ts';
import { UsageError } from '../errors.ts';
import { NotFoundError } from './params.ts';

/** How many of each cron's latest runs the page shows. */
export const RUNS_SHOWN = 5;

/** A cron with its latest runs, newest first. */
export interface CronView extends CronListing {
  runs: CronLogEntry[];
}

/** The crontab page's (and `/api/crontab`'s) content. */
export interface CrontabView {
  /** The global switch. */
  enabled: boolean;
  /** Every change is refused on this host. */
  readOnly: boolean;
  crons: CronView[];
}

export async function crontabView(crontab: CrontabAdmin, runs = RUNS_SHOWN): Promise<CrontabView> {
  const listed = await crontab.list();
  const latest = await crontab.latestLogs(runs);
  const crons: CronView[] = listed.map((c) => ({ ...c, runs: latest.get(c.name) ?? [] }));
  return { enabled: await crontab.enabled(), readOnly: crontab.readOnly, crons };
}

/** Enables or disables one cron; a name with no cron is a 404. */
export async function setCronActivated(crontab: CrontabAdmin, name: string, activated: boolean): Promise<{ cron: Cron; message: string }> {
  const cron = await missingCronAs404(() => crontab.setActivated(name, activated));
  const message = activated
    ? `cron ${name} is enabled; next run ${cron.nextRunAt ? cron.nextRunAt.toISOString() : 'never (its expression fires no more)'}`
    : `cron ${name} is disabled; running workers stop it within seconds`;
  return { cron, message };
}

/** Turns the whole crontab on or off. */
export async function setCrontabSwitch(crontab: CrontabAdmin, on: boolean): Promise<{ enabled: boolean; message: string }> {
  await crontab.setEnabled(on);
  return { enabled: on, message: on ? 'the crontab is on: every enabled cron runs from its next tick' : 'the crontab is off: no cron runs until it is turned on' };
}

async function missingCronAs404<T>(act: () => Promise<T>): Promise<T> {
  try {
    return await act();
  } catch (err) {
    if (err instanceof UsageError && err.message.startsWith('no cron named ')) throw new NotFoundError(err.message);
    throw err;
  }
}
