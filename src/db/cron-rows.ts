/**
 * The crontab's tables and their rows (see migrations/20261124000100_crontab.ts).
 */
export const CRONS = 'signalq_crons';
export const CRON_RUNS = 'signalq_cron_runs';
export const SETTINGS = 'signalq_settings';

/** A row of `signalq_crons`. Booleans come back as 0/1 from both databases. */
export interface CronRow {
  name: string;
  expression: string;
  timezone: string | null;
  type: string;
  payload: string;
  activated: number | boolean;
  missed: string;
  no_overlap: number | boolean;
  next_run_at: number | null;
  last_run_at: number | null;
  created_at: number;
  updated_at: number;
}

/** A row of `signalq_cron_runs`: a handled tick and its log entry. `status` is null while its item is unfinished. */
export interface CronRunRow {
  id: number;
  cron_name: string;
  scheduled_at: number;
  item_id: number | null;
  status: string | null;
  message: string | null;
  created_at: number;
  finished_at: number | null;
}

/** A run row with what its status is decided from: its item's status, trials and results (null: no such item). */
export interface CronRunWithItem extends CronRunRow {
  item_status: string | null;
  item_trials: number | null;
  item_results: string | null;
}
