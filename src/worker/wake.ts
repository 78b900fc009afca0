/**
 * Waking idle workers on the same host at once when an item is enqueued, instead of at their next poll.
 *
 * MySQL has no LISTEN/NOTIFY, so a worker listens on a loopback UDP port that it records in the workers table;
 * an enqueue, once committed, sends one datagram to each live worker on its host. A datagram carries nothing but
 * "look now": a lost one costs only the poll interval, a forged one only a poll. Enqueues from other hosts are
 * found by the poll.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Knex } from 'knex';
import { liveWakePorts } from '../db/sql/liveWakePorts.ts';

const LOOPBACK = '127.0.0.1';
const WAKE = Buffer.from('w');
/** How long the list of a host's workers is reused before it is read again. */
const PORTS_TTL_MS = 2_000;
/** A worker not seen for this long is not woken (it heartbeats every 5 s). */
export const WORKER_LIVE_MS = 15_000;

/** A worker's end: a UDP socket on loopback that calls `onWake` for every datagram. */
export class WakeListener {
  private socket: Socket | null = null;

  /** Binds an ephemeral loopback port and returns it, or null when UDP is unavailable (the poll still works). */
  async start(onWake: () => void): Promise<number | null> {
    const socket = createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, LOOPBACK, () => resolve());
      });
    } catch {
      socket.close();
      return null;
    }
    socket.on('message', () => onWake());
    socket.on('error', () => {}); // a wake is only a hint; never let the socket take the worker down
    socket.unref();
    this.socket = socket;
    return socket.address().port;
  }

  close(): void {
    this.socket?.close();
    this.socket = null;
  }
}

/** An enqueuer's end: sends a datagram to every live worker on this host. */
export class WakeNotifier {
  private ports: number[] = [];
  private readAt = -Infinity;
  private socket: Socket | null = null;
  private pending = new Set<Promise<void>>();

  constructor(private readonly knex: Knex, private readonly host: string, private readonly now: () => number) {}

  /** Wakes the host's workers; never throws (a failure only means they find the item at their next poll). */
  notify(): void {
    const p = this.send().catch(() => {});
    this.pending.add(p);
    p.finally(() => this.pending.delete(p));
  }

  /** Waits for wakes still being sent (before the database connection is closed). */
  async flush(): Promise<void> {
    await Promise.all(this.pending);
  }

  close(): void {
    this.socket?.close();
    this.socket = null;
  }

  private async send(): Promise<void> {
    if (Date.now() - this.readAt > PORTS_TTL_MS) {
      this.readAt = Date.now(); // also after a failure: one attempt per TTL, not one per enqueue
      this.ports = await liveWakePorts(this.knex, this.host, this.now() - WORKER_LIVE_MS);
    }
    if (this.ports.length === 0) return;
    if (!this.socket) {
      this.socket = createSocket('udp4');
      this.socket.on('error', () => {});
      this.socket.unref();
    }
    const socket = this.socket;
    // Waited for, so that closing the socket (a one-shot CLI enqueue exits at once) cannot drop the datagram.
    await Promise.all(this.ports.map((port) => new Promise<void>((resolve) => socket.send(WAKE, port, LOOPBACK, () => resolve()))));
  }
}
