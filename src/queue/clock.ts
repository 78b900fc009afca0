/**
 * "Now" as the database server sees it. Leases are compared across hosts, so every host must agree on the time;
 * reading the server's clock for every statement would cost a round trip, so the offset between this process's
 * clock and the server's is measured once and refreshed now and then.
 */
import type { Knex } from 'knex';
import { readServerClock } from '../db/sql/readServerClock.ts';

const RESYNC_MS = 60_000;

export class ServerClock {
  private offsetMs = 0;
  private syncedAt = -Infinity;

  constructor(private readonly knex: Knex) {}

  /** Measures the offset (half a round trip of error at most). Failures keep the last offset. */
  async sync(): Promise<void> {
    const before = Date.now();
    const server = await readServerClock(this.knex);
    const after = Date.now();
    this.offsetMs = server - Math.round((before + after) / 2);
    this.syncedAt = after;
  }

  /** Syncs when never synced or when the last sync is over a minute old. */
  async syncIfStale(): Promise<void> {
    if (Date.now() - this.syncedAt > RESYNC_MS) await this.sync().catch(() => {});
  }

  /** The server's time now, in epoch ms. */
  now(): number {
    return Date.now() + this.offsetMs;
  }
}
