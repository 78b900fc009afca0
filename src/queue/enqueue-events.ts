import type { Knex } from 'knex';
import type { Signals, SignalqEvents } from '../signals.ts';

/**
 * Emits an enqueue event once `trx` commits (never if it rolls back), or at once without one. A function of its own
 * so that the listener waiting on the transaction holds the event only: a closure made inside `enqueueMany` shares
 * its scope, and through `options.label` kept every row and line of a long transaction (`enqueue --file` streams a
 * whole file through one) until the commit.
 */
export function emitWhenWritten<K extends 'itemEnqueued' | 'itemsEnqueued'>(signals: Signals, trx: Knex.Transaction | undefined, type: K, event: SignalqEvents[K]): void {
  if (!trx) return signals.emit(type, event);
  trx.executionPromise.then(() => signals.emit(type, event), () => {});
}
