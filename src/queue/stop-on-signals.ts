/**
 * Graceful shutdown on process signals, for `queue.stopOnSignals()`.
 */

/** What `stopOnSignals` takes. */
export interface StopOnSignalsOptions {
  /** Default `['SIGINT', 'SIGTERM']`. */
  signals?: NodeJS.Signals[];
  /** Called once the queue is closed, with the signal that stopped it. */
  onStopped?: (signal: NodeJS.Signals) => unknown;
}

/** The parts of a queue a shutdown steers. */
export interface Stoppable {
  stop(): void;
  /** What `work()` returned, while it runs. */
  working(): Promise<unknown> | null;
  close(): Promise<void>;
}

/**
 * On the first of `signals`: `stop()`, wait for `work()` to resolve, then `close()` and remove the listeners. A
 * second signal meanwhile exits at once with code 130. A failed close sets `process.exitCode` to 1. Returns a
 * function that removes the listeners.
 */
export function stopOnSignals(queue: Stoppable, options: StopOnSignalsOptions = {}): () => void {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  let stopping = false;
  const remove = () => {
    for (const s of signals) process.off(s, onSignal);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    queue.stop();
    void (async () => {
      try {
        await queue.working()?.catch(() => {});
        await queue.close();
        await options.onStopped?.(signal);
      } catch {
        process.exitCode = 1;
      } finally {
        remove();
      }
    })();
  };
  for (const s of signals) process.on(s, onSignal);
  return remove;
}
