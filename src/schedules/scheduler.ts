/**
 * The crontab's runner, beside a worker: node-cron timers fire at each cron's ticks, and every `reloadMs` the
 * crontab is read again (so changes made elsewhere apply without a restart) and anything due is run (a tick a timer
 * missed, ticks missed while no worker ran). Which ticks are due is always read from the database
 * (`next_run_at`), never from the timers, so any number of runners on any number of hosts run the same crontab:
 * each tick enqueues one item (see `runDue`).
 */
import type { Knex } from 'knex';
import nodeCron, { type ScheduledTask } from 'node-cron';
import pLimit from 'p-limit';
import type { CronRow } from '../db/cron-rows.ts';
import { dialectOf, retryOnLockConflict } from '../db/dialect.ts';
import { advanceCron } from '../db/sql/advanceCron.ts';
import { finishCronRun } from '../db/sql/finishCronRun.ts';
import { insertCronRun } from '../db/sql/insertCronRun.ts';
import { insertItem } from '../db/sql/insertItems.ts';
import { listCronRuns } from '../db/sql/listCronRuns.ts';
import { listCrons } from '../db/sql/listCrons.ts';
import { pruneCronRuns } from '../db/sql/pruneCronRuns.ts';
import { unfinishedCronRun } from '../db/sql/unfinishedCronRun.ts';
import { UsageError } from '../errors.ts';
import type { Signals } from '../signals.ts';
import type { ItemStatus } from '../types.ts';
import { dueTicks, nextTick } from './expression.ts';
import { runStatusOf } from './log-status.ts';
import { decideDueTicks, type MissedPolicy, type TickDecision } from './policy.ts';
import { crontabEnabled } from './switch.ts';

/** How the runner runs. */
export interface CrontabRunnerOptions {
  /** How often the crontab is read again (changes made elsewhere apply within this) and due ticks run. Default 2 000 ms. */
  reloadMs?: number;
  /** How late the latest due tick may be and still run as on time rather than count as missed. Default 30 000 ms. */
  graceMs?: number;
  /** With the `all` policy, at most this many missed ticks run (the latest); older ones are logged NOTRUN. Default 10. */
  maxCatchUp?: number;
  /**
   * Called once per cron whose item type no handler of this process takes (its items wait for a worker that has
   * one): the CLI prints a warning. Not a refusal: handlers may live only on other hosts.
   */
  onUnhandledType?: (cron: { name: string; type: string }) => void;
}

/** What the runner needs from its queue. */
export interface CrontabRunnerDeps {
  knex: Knex;
  signals: Signals;
  /** The time now (the database server's), epoch ms. */
  now: () => number;
  /** Resolves once the tables exist. */
  tablesReady: () => Promise<void>;
  /** Trials of each enqueued item. */
  maxTrials: number;
  /** Log entries kept per cron. */
  logsKept: number;
  /** Whether a handler of this process takes an item type (null: no handlers to ask, nothing is flagged). */
  takesType: ((type: string) => boolean) | null;
}

/** What one `runDue` did. */
export interface DueSummary {
  /** Items enqueued (one per tick this runner handled). */
  enqueued: number;
  /** NOTRUN entries written (missed ticks, overlap skips). */
  notRun: number;
}

/** Crons whose due ticks are handled at once (each takes a connection of the pool, 8 on MySQL, 1 on SQLite). */
const CRONS_AT_ONCE = 4;

const silentLogger = { info() {}, warn() {}, error() {}, debug() {} };

export class CrontabRunner {
  private readonly reloadMs: number;
  private readonly graceMs: number;
  private readonly maxCatchUp: number;
  /** node-cron tasks by cron name, with the schedule they were made for. */
  private readonly tasks = new Map<string, { task: ScheduledTask; key: string }>();
  private readonly flagged = new Set<string>();
  /** One step at a time: a timer firing during a reload waits for it. */
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  /** A timer's step waiting its turn: timers firing meanwhile (many crons on one second) share it. */
  private queuedStep: Promise<unknown> | null = null;
  private running = false;

  constructor(private readonly deps: CrontabRunnerDeps, private readonly options: CrontabRunnerOptions = {}) {
    this.reloadMs = options.reloadMs ?? 2_000;
    this.graceMs = options.graceMs ?? 30_000;
    this.maxCatchUp = options.maxCatchUp ?? 10;
    if (!Number.isFinite(this.reloadMs) || this.reloadMs < 10) throw new UsageError(`option reloadMs=${this.reloadMs} must be at least 10 ms`);
    if (!Number.isFinite(this.graceMs) || this.graceMs < 0) throw new UsageError(`option graceMs=${this.graceMs} must be a number of at least 0`);
    if (!Number.isInteger(this.maxCatchUp) || this.maxCatchUp < 1) throw new UsageError(`option maxCatchUp=${this.maxCatchUp} must be a whole number of at least 1`);
  }

  /**
   * Loads the crontab, runs what came due while no runner ran (by each cron's missed-run policy), starts a timer per
   * activated cron and the periodic reload. Resolves once the first load is done.
   */
  async start(): Promise<void> {
    if (this.running) throw new UsageError('this crontab runner is already running; call start() once');
    this.running = true;
    await this.reload();
    this.scheduleReload();
  }

  /** Stops the timers and waits for the step under way. Items already enqueued are the queue's to run. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const name of [...this.tasks.keys()]) await this.unschedule(name);
    await this.chain.catch(() => {});
  }

  /**
   * Handles every activated cron's ticks due at `now` (default: the server's time now), when the crontab is on.
   * Per cron, one transaction moves its `next_run_at` past now (only if no other runner did first), enqueues an
   * item per tick to run and records each tick under the UNIQUE key (cron, scheduled time): a second runner's
   * transaction for the same ticks changes nothing and rolls back, item included.
   */
  runDue(now: number = this.deps.now()): Promise<DueSummary> {
    return this.serial(async () => {
      await this.deps.tablesReady();
      const total: DueSummary = { enqueued: 0, notRun: 0 };
      if (!(await crontabEnabled(this.deps.knex))) return total;
      const due = (await listCrons(this.deps.knex)).filter((r) => Number(r.activated) && r.next_run_at != null && Number(r.next_run_at) <= now);
      // Each cron's ticks are one transaction of their own, so several go at once (a commit waits on the disk):
      // measured on MariaDB, 100 crons due at once took 2 s one after the other.
      const limit = pLimit(CRONS_AT_ONCE);
      for (const done of await Promise.all(due.map((row) => limit(() => this.runCron(row, now))))) {
        total.enqueued += done.enqueued;
        total.notRun += done.notRun;
      }
      return total;
    });
  }

  /**
   * Writes the status of log entries whose item has finished (OK, WARN, FAILURE), once across all runners, and
   * announces each as `cronFinished`. Returns how many this runner wrote.
   */
  finishRuns(now: number = this.deps.now()): Promise<number> {
    return this.serial(async () => {
      await this.deps.tablesReady();
      let written = 0;
      for (const r of await listCronRuns(this.deps.knex, { open: true, limit: 500 })) {
        const itemId = Number(r.item_id);
        const item = r.item_status == null ? null : { id: itemId, status: r.item_status as ItemStatus, trials: Number(r.item_trials), results: r.item_results ?? '{}' };
        const { status, message } = runStatusOf(itemId, item);
        if (status === 'RUNNING') continue;
        if (!(await finishCronRun(this.deps.knex, Number(r.id), status, message, now))) continue;
        written++;
        this.deps.signals.emit('cronFinished', { name: r.cron_name, scheduledAt: new Date(Number(r.scheduled_at)), itemId, status, message });
      }
      return written;
    });
  }

  private async runCron(row: CronRow, now: number): Promise<DueSummary> {
    const schedule = { expression: row.expression, timezone: row.timezone ?? null };
    const from = Number(row.next_run_at);
    const due = dueTicks(schedule, from, now, this.maxCatchUp + 1);
    const decision = decideDueTicks({ ...due, from }, now, row.missed as MissedPolicy, this.graceMs, this.maxCatchUp);
    const started: { itemId: number; scheduledAt: number }[] = [];
    const notRun: { scheduledAt: number; message: string }[] = [];
    try {
      // A deadlock or lock wait between runners is tried again; the transaction starts over whole.
      await retryOnLockConflict(() => this.deps.knex.transaction(async (trx) => {
        started.length = notRun.length = 0; // a retried transaction starts over
        const last = decision.run.length ? decision.run[decision.run.length - 1] : null;
        if (!(await advanceCron(trx, row.name, from, nextTick(schedule, now), last, now))) return;
        if (decision.notRun) {
          const message = missedMessage(decision.notRun, row.missed as MissedPolicy);
          await insertCronRun(trx, { cron_name: row.name, scheduled_at: decision.notRun.last, item_id: null, status: 'NOTRUN', message, created_at: now });
          notRun.push({ scheduledAt: decision.notRun.last, message });
        }
        for (const t of decision.run) {
          const busy = Number(row.no_overlap) ? await unfinishedCronRun(trx, row.name) : null;
          if (busy != null) {
            const message = `skipped: the previous run (item ${busy}) is not finished and this cron must not overlap`;
            await insertCronRun(trx, { cron_name: row.name, scheduled_at: t, item_id: null, status: 'NOTRUN', message, created_at: now });
            notRun.push({ scheduledAt: t, message });
            continue;
          }
          // Runnable at once: never later than the server's time now (a step run for a time ahead of it is a test's clock).
          const runAt = Math.min(now, this.deps.now());
          const { id } = await insertItem(trx, { type: row.type, payload: row.payload, priority: 0, run_at: runAt, max_trials: this.deps.maxTrials, dedupe_key: null, created_at: runAt });
          // The tick's key: a second runner's insert of it fails here, and its whole transaction rolls back.
          await insertCronRun(trx, { cron_name: row.name, scheduled_at: t, item_id: id, status: null, message: null, created_at: now });
          started.push({ itemId: id, scheduledAt: t });
        }
      }));
    } catch (err) {
      if (dialectOf(this.deps.knex).isDuplicateKeyError(err)) return { enqueued: 0, notRun: 0 }; // another runner won
      throw err;
    }
    if (started.length || notRun.length) await pruneCronRuns(this.deps.knex, row.name, this.deps.logsKept);
    for (const s of started) {
      this.deps.signals.emit('itemEnqueued', { id: s.itemId, type: row.type, created: true });
      this.deps.signals.emit('cronStarted', { name: row.name, type: row.type, scheduledAt: new Date(s.scheduledAt), itemId: s.itemId });
    }
    for (const n of notRun) {
      this.deps.signals.emit('cronFinished', { name: row.name, scheduledAt: new Date(n.scheduledAt), itemId: null, status: 'NOTRUN', message: n.message });
    }
    return { enqueued: started.length, notRun: notRun.length };
  }

  /** Reads the crontab again: timers for the activated crons (made, changed, removed), due ticks, finished runs. */
  private async reload(): Promise<void> {
    try {
      await this.deps.tablesReady();
      const on = await crontabEnabled(this.deps.knex);
      const crons = (await listCrons(this.deps.knex)).filter((c) => Number(c.activated));
      const wanted = new Map(on ? crons.map((c) => [c.name, c]) : []);
      for (const name of [...this.tasks.keys()]) {
        const c = wanted.get(name);
        if (!c || this.tasks.get(name)!.key !== taskKey(c)) await this.unschedule(name);
      }
      for (const c of wanted.values()) {
        if (this.running && !this.tasks.has(c.name)) this.schedule(c);
        if (this.deps.takesType && !this.deps.takesType(c.type) && !this.flagged.has(c.name)) {
          this.flagged.add(c.name);
          this.options.onUnhandledType?.({ name: c.name, type: c.type });
        }
      }
      await this.runDue();
      await this.finishRuns();
    } catch (err) {
      this.deps.signals.emit('databaseError', { error: err as Error, during: 'running the crontab', retryInMs: this.reloadMs });
    }
  }

  private scheduleReload(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.reload().finally(() => this.scheduleReload());
    }, this.reloadMs);
  }

  private schedule(c: CronRow): void {
    // node-cron only says when to look: the database says what is due. noOverlap: a slow look is not stacked.
    const task = nodeCron.createTask(c.expression, () => this.stepOnTimer(), { name: `signalq:${c.name}`, noOverlap: true, logger: silentLogger, ...(c.timezone ? { timezone: c.timezone } : {}) });
    void task.start();
    this.tasks.set(c.name, { task, key: taskKey(c) });
  }

  /** What a timer does: one `runDue` at its turn, shared by the timers that fire before it starts. */
  private stepOnTimer(): Promise<unknown> {
    if (this.queuedStep) return this.queuedStep;
    const step: Promise<unknown> = this.chain.then(() => {
      if (this.queuedStep === step) this.queuedStep = null; // it starts now: a timer firing from here queues another
      return this.runDue();
    }).catch((err) => {
      this.deps.signals.emit('databaseError', { error: err as Error, during: 'running the crontab', retryInMs: this.reloadMs });
    });
    this.queuedStep = step;
    return step;
  }

  private async unschedule(name: string): Promise<void> {
    const t = this.tasks.get(name);
    this.tasks.delete(name);
    await t?.task.destroy();
  }

  private serial<T>(step: () => Promise<T>): Promise<T> {
    const next = this.chain.then(step, step);
    this.chain = next.catch(() => {});
    return next;
  }
}

function taskKey(c: CronRow): string {
  return `${c.expression}|${c.timezone ?? ''}`;
}

/** The NOTRUN message of missed ticks. */
export function missedMessage(n: NonNullable<TickDecision['notRun']>, policy: MissedPolicy): string {
  const when = (t: number) => new Date(t).toISOString();
  const count = !n.atLeast ? String(n.count) : n.count ? `more than ${n.count}` : 'earlier';
  const span = n.first === n.last ? `at ${when(n.last)}` : `from ${when(n.first)} to ${when(n.last)}`;
  return `missed ${count} tick(s) ${span}: no worker ran the crontab then (missed-run policy ${policy})`;
}
