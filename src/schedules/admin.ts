/**
 * The crontab's reads and actions, for the CLI and the dashboard alike: list (with the expression in words, the
 * next run and the last status), logs, add, remove, enable, disable, the global switch, export and import. Every
 * change is refused, writing nothing, when the crontab is read-only on this host.
 */
import type { Knex } from 'knex';
import { dialectOf } from '../db/dialect.ts';
import { deleteCron } from '../db/sql/deleteCron.ts';
import { getCron } from '../db/sql/getCron.ts';
import { insertCron } from '../db/sql/insertCron.ts';
import { listCronRuns } from '../db/sql/listCronRuns.ts';
import { listLatestCronRuns } from '../db/sql/listLatestCronRuns.ts';
import { listCrons } from '../db/sql/listCrons.ts';
import { updateCron } from '../db/sql/updateCron.ts';
import type { CronRunWithItem } from '../db/cron-rows.ts';
import { UsageError } from '../errors.ts';
import type { ItemStatus } from '../types.ts';
import { checkCronSpec, cronOfRow, cronRowOf, specOf, validateCronName, type CheckedCron, type Cron, type CronSpec, type ResolvedCrontabOptions } from './crontab.ts';
import { nextTick } from './expression.ts';
import { runStatusOf, type CronRunStatus } from './log-status.ts';
import { crontabEnabled, setCrontabEnabled } from './switch.ts';

/** A cron as `cron list` shows it. */
export interface CronListing extends Cron {
  /** The status of its latest log entry (null: none yet). */
  lastStatus: CronRunStatus | null;
  /** No live worker has a handler for its item type: its items will wait until one does. */
  noHandler: boolean;
}

/** One log entry: a handled tick. */
export interface CronLogEntry {
  cron: string;
  /** The tick's scheduled time. */
  scheduledAt: Date;
  /** When the entry was written (the item enqueued, or the tick found missed). */
  at: Date;
  status: CronRunStatus;
  message: string;
  /** The item the run enqueued (null: NOTRUN). */
  itemId: number | null;
}

/** The whole crontab as JSON: what `export` writes and `import` reads. */
export interface CrontabDocument {
  /** The global switch. */
  enabled: boolean;
  crons: Required<CronSpec>[];
}

export class CrontabAdmin {
  constructor(
    private readonly knex: Knex,
    private readonly now: () => number,
    private readonly options: ResolvedCrontabOptions & { maxPayloadBytes: number },
    private readonly tablesReady: () => Promise<void> = async () => {},
    /** For `noHandler`: the handlers of live workers that take a type (the workers table). */
    private readonly liveHandlersByType: () => Promise<(type: string) => string[]> = async () => () => [],
  ) {}

  /** True when every change is refused on this host (`SIGNALQ_CRONTAB_READONLY=1` or `crontab.readOnly`). */
  get readOnly(): boolean {
    return this.options.readOnly;
  }

  /** Whether the crontab runs (the global switch). */
  async enabled(): Promise<boolean> {
    await this.tablesReady();
    return crontabEnabled(this.knex);
  }

  /** Every cron, by name, with its next run, last status, and whether a live worker takes its type. */
  async list(): Promise<CronListing[]> {
    await this.tablesReady();
    const handlersOf = await this.liveHandlersByType();
    const latest = await this.latestLogs(1);
    return (await listCrons(this.knex)).map((row) => ({
      ...cronOfRow(row), lastStatus: latest.get(row.name)?.[0]?.status ?? null, noHandler: handlersOf(row.type).length === 0,
    }));
  }

  /** Every cron's latest `perCron` log entries (default 5), newest first, by cron name, in one read. */
  async latestLogs(perCron = 5): Promise<Map<string, CronLogEntry[]>> {
    if (!Number.isInteger(perCron) || perCron < 1 || perCron > 1000) throw new UsageError(`perCron ${perCron} is invalid; use a whole number from 1 to 1000`);
    await this.tablesReady();
    const out = new Map<string, CronLogEntry[]>();
    for (const r of await listLatestCronRuns(this.knex, perCron)) {
      const entries = out.get(r.cron_name) ?? [];
      entries.push(entryOf(r));
      out.set(r.cron_name, entries);
    }
    return out;
  }

  /** One cron, or undefined. */
  async get(name: string): Promise<Cron | undefined> {
    validateCronName(name);
    await this.tablesReady();
    const row = await getCron(this.knex, name);
    return row ? cronOfRow(row) : undefined;
  }

  /** A cron's log entries, newest first (at most `limit`, default 100). */
  async logs(name: string, { limit = 100 }: { limit?: number } = {}): Promise<CronLogEntry[]> {
    validateCronName(name);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new UsageError(`limit ${limit} is invalid; use a whole number from 1 to 100000`);
    await this.tablesReady();
    if (!(await getCron(this.knex, name))) throw new UsageError(`no cron named ${JSON.stringify(name)}; see signalq cron list`);
    return (await listCronRuns(this.knex, { cronName: name, limit })).map(entryOf);
  }

  /**
   * Adds a cron; its first run is its first tick from now. Refuses (a `UsageError`, nothing written) an invalid
   * name, expression, time zone, type, payload or policy, and a name already taken.
   */
  async add(spec: CronSpec): Promise<Cron> {
    this.refuseIfReadOnly('add a cron');
    const checked = checkCronSpec(spec, this.options.maxPayloadBytes);
    await this.tablesReady();
    try {
      await insertCron(this.knex, cronRowOf(checked, this.now()));
    } catch (err) {
      // The name is the primary key: SQLite reports that as a primary-key error, not a unique-index one.
      if (dialectOf(this.knex).isDuplicateKeyError(err) || (await getCron(this.knex, checked.name))) throw new UsageError(`a cron named ${JSON.stringify(checked.name)} exists; remove it first, or change it with cron import`);
      throw err;
    }
    return (await this.get(checked.name))!;
  }

  /** Removes a cron and its logs. Refuses a name with no cron. */
  async remove(name: string): Promise<void> {
    this.refuseIfReadOnly('remove a cron');
    validateCronName(name);
    await this.tablesReady();
    if (!(await deleteCron(this.knex, name))) throw new UsageError(`no cron named ${JSON.stringify(name)}; see signalq cron list`);
  }

  /**
   * Activates or deactivates one cron. Activation schedules it from now: ticks while it was deactivated are not
   * missed runs. Refuses a name with no cron. Running workers apply it within their reload interval (2 s).
   */
  async setActivated(name: string, activated: boolean): Promise<Cron> {
    this.refuseIfReadOnly(activated ? 'enable a cron' : 'disable a cron');
    validateCronName(name);
    await this.tablesReady();
    const row = await getCron(this.knex, name);
    if (!row) throw new UsageError(`no cron named ${JSON.stringify(name)}; see signalq cron list`);
    const now = this.now();
    const wasActive = Boolean(Number(row.activated));
    const patch = activated && !wasActive
      ? { activated: 1, next_run_at: nextTick({ expression: row.expression, timezone: row.timezone }, now), updated_at: now }
      : { activated: activated ? 1 : 0, updated_at: now };
    await updateCron(this.knex, name, patch);
    return (await this.get(name))!;
  }

  /**
   * Turns the whole crontab on or off. Turning it on schedules every cron from now: ticks while it was off are not
   * missed runs.
   */
  async setEnabled(on: boolean): Promise<void> {
    this.refuseIfReadOnly(on ? 'turn the crontab on' : 'turn the crontab off');
    await this.tablesReady();
    await this.knex.transaction(async (trx) => {
      const was = await crontabEnabled(trx);
      await setCrontabEnabled(trx, on);
      if (!on || was) return;
      const now = this.now();
      for (const row of await listCrons(trx)) {
        await updateCron(trx, row.name, { next_run_at: nextTick({ expression: row.expression, timezone: row.timezone }, now), updated_at: now });
      }
    });
  }

  /** The whole crontab as a JSON document (`import` reads it back). */
  async export(): Promise<CrontabDocument> {
    await this.tablesReady();
    const crons = (await listCrons(this.knex)).map((r) => specOf(cronOfRow(r)));
    return { enabled: await crontabEnabled(this.knex), crons };
  }

  /**
   * Makes the crontab what `doc` says, in one transaction: adds its crons, changes those that differ (a changed
   * expression or time zone is scheduled again from now; an unchanged one keeps its next run), and sets the switch
   * when `enabled` is given. With `prune`, removes the crons the document does not have. Idempotent: importing the
   * same document again changes nothing. Every cron is checked first: one bad cron refuses the whole import,
   * naming it, and nothing is written.
   */
  async import(doc: unknown, { prune = false, source = 'crontab' }: { prune?: boolean; source?: string } = {}): Promise<{ added: string[]; changed: string[]; unchanged: string[]; removed: string[] }> {
    this.refuseIfReadOnly('import a crontab');
    const { enabled, crons } = checkDocument(doc, source, this.options.maxPayloadBytes);
    await this.tablesReady();
    const result = { added: [] as string[], changed: [] as string[], unchanged: [] as string[], removed: [] as string[] };
    await this.knex.transaction(async (trx) => {
      const now = this.now();
      const existing = new Map((await listCrons(trx)).map((r) => [r.name, r]));
      for (const c of crons) {
        const row = existing.get(c.name);
        const fresh = cronRowOf(c, now);
        if (!row) {
          await insertCron(trx, fresh);
          result.added.push(c.name);
          continue;
        }
        const same = JSON.stringify(specOf(cronOfRow(row))) === JSON.stringify(specOf(cronOfRow(fresh)));
        if (same) {
          result.unchanged.push(c.name);
          continue;
        }
        const rescheduled = row.expression !== fresh.expression || (row.timezone ?? null) !== fresh.timezone || (fresh.activated && !Number(row.activated));
        const { created_at: _c, last_run_at: _l, next_run_at, ...rest } = fresh;
        await updateCron(trx, c.name, rescheduled ? { ...rest, next_run_at } : rest);
        result.changed.push(c.name);
      }
      if (prune) {
        const wanted = new Set(crons.map((c) => c.name));
        for (const name of existing.keys()) {
          if (wanted.has(name)) continue;
          await deleteCron(trx, name);
          result.removed.push(name);
        }
      }
      if (enabled !== undefined) {
        const was = await crontabEnabled(trx);
        await setCrontabEnabled(trx, enabled);
        if (enabled && !was) {
          for (const row of await listCrons(trx)) await updateCron(trx, row.name, { next_run_at: nextTick({ expression: row.expression, timezone: row.timezone }, now), updated_at: now });
        }
      }
    });
    return result;
  }

  private refuseIfReadOnly(what: string): void {
    if (this.options.readOnly) {
      throw new UsageError(`cannot ${what}: the crontab is read-only on this host (SIGNALQ_CRONTAB_READONLY=1 or crontab.readOnly); change the app's crontab file and import it where it is not read-only`);
    }
  }
}

/** A log entry from its row: the stored status, or (while none is stored) the one its item says now. */
function entryOf(r: CronRunWithItem): CronLogEntry {
  let status = r.status as CronRunStatus | null;
  let message = r.message ?? '';
  if (status == null && r.item_id != null) {
    const id = Number(r.item_id);
    const item = r.item_status == null ? null : { id, status: r.item_status as ItemStatus, trials: Number(r.item_trials), results: r.item_results ?? '{}' };
    ({ status, message } = runStatusOf(id, item));
  }
  return {
    cron: r.cron_name,
    scheduledAt: new Date(Number(r.scheduled_at)),
    at: new Date(Number(r.created_at)),
    status: status ?? 'NOTRUN',
    message,
    itemId: r.item_id == null ? null : Number(r.item_id),
  };
}

/** Checks a crontab document, naming the place of anything wrong (`crontab.json crons[2]: ...`). */
function checkDocument(doc: unknown, source: string, maxPayloadBytes: number): { enabled: boolean | undefined; crons: CheckedCron[] } {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`${source} is not a crontab document; give { "enabled": true, "crons": [ ... ] } as cron export writes it`);
  const d = doc as Record<string, unknown>;
  const extra = Object.keys(d).filter((k) => k !== 'enabled' && k !== 'crons');
  if (extra.length) throw new UsageError(`${source} has unknown field(s) ${extra.map((k) => JSON.stringify(k)).join(', ')}; a crontab document has enabled and crons`);
  if (d.enabled !== undefined && typeof d.enabled !== 'boolean') throw new UsageError(`${source} enabled ${JSON.stringify(d.enabled)} must be true or false`);
  if (!Array.isArray(d.crons)) throw new UsageError(`${source} crons is ${JSON.stringify(d.crons) ?? 'missing'}; give a list of crons`);
  const crons = d.crons.map((c, i) => checkCronSpec(c, maxPayloadBytes, `${source} crons[${i}]: `));
  const seen = new Set<string>();
  for (const c of crons) {
    if (seen.has(c.name)) throw new UsageError(`${source} has two crons named ${JSON.stringify(c.name)}; cron names are unique`);
    seen.add(c.name);
  }
  return { enabled: d.enabled as boolean | undefined, crons };
}
