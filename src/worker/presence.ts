/**
 * A running worker's row in the workers table: who it is (host, PID, handlers), that it is alive (a heartbeat
 * every 5 s), and where to wake it. Removed on a graceful stop; a killed worker's row goes stale (shown as not
 * alive after 15 s) and is deleted by the next worker that starts, once unseen for ten minutes.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { WorkerRow } from '../db/rows.ts';
import { registerWorker } from '../db/sql/registerWorker.ts';
import { removeStaleWorkers } from '../db/sql/removeStaleWorkers.ts';
import { removeWorker } from '../db/sql/removeWorker.ts';
import { touchWorker } from '../db/sql/touchWorker.ts';
import type { Signals } from '../signals.ts';
import { WakeListener, WORKER_LIVE_MS } from './wake.ts';
import type { HandlerRecord } from '../jobs/declarations.ts';

const HEARTBEAT_MS = 5_000;
/** Rows not seen for this long belong to workers that died; any worker deletes them. */
const STALE_MS = 10 * 60_000;

export class WorkerPresence {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly listener = new WakeListener();
  private timer: NodeJS.Timeout | null = null;
  private row: WorkerRow | null = null;

  constructor(
    private readonly knex: Knex,
    private readonly signals: Signals,
    private readonly now: () => number,
    /** The connected handlers: the types each takes and what it declares, recorded for operators and enqueuers. */
    private readonly handlers: () => HandlerRecord[],
  ) {}

  /** Listens for wakes and registers the worker. A database failure here is reported, not fatal. */
  async start(onWake: () => void): Promise<void> {
    const port = await this.listener.start(onWake);
    const now = this.now();
    this.row = { id: this.id, host: hostname(), pid: process.pid, wake_port: port, handlers: JSON.stringify(this.handlers()), started_at: now, seen_at: now };
    await this.beat(true);
    this.timer = setInterval(() => void this.beat(false), HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Stops the heartbeat and removes the row. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.listener.close();
    await removeWorker(this.knex, this.id).catch(() => {});
  }

  private async beat(first: boolean): Promise<void> {
    if (!this.row) return;
    try {
      const now = this.now();
      if (first || !(await touchWorker(this.knex, this.id, now))) await registerWorker(this.knex, { ...this.row, seen_at: now });
      if (first) await removeStaleWorkers(this.knex, now - Math.max(STALE_MS, WORKER_LIVE_MS));
    } catch (error) {
      this.signals.emit('databaseError', { error: error as Error, during: 'recording the worker as alive', retryInMs: HEARTBEAT_MS });
    }
  }
}
