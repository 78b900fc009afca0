/**
 * Error classes that change what happens next. Every message names the value at fault and what to do.
 */

/** A mistake of the caller's (bad input, bad flag): nothing was written. The CLI exits 2 on it. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Thrown by a handler to fail the item at once, skipping its remaining trials. */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

/**
 * Thrown by a handler to fail this trial and ask for the next one no sooner than `delayMs` from now (a rate
 * limit's `Retry-After`, say). The trial still counts; the item waits the longer of this and its backoff.
 */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
  constructor(message: string, readonly delayMs: number) {
    super(message);
  }
}

/**
 * The lock file is held by a live process, by one on another host (which this one cannot check), or is being written
 * or taken over by another process (`pid` null). The CLI exits 75 (EX_TEMPFAIL) on it.
 */
export class LockBusyError extends Error {
  override name = 'LockBusyError';
  constructor(readonly pid: number | null, readonly path: string, readonly host: string | null = null) {
    super(
      pid === null
        ? `the lock file ${path} is being written or taken over by another signalq process (or was left empty by one that died); try again in a few seconds, or use --no-lock`
        : host !== null
          ? `another signalq process (PID ${pid} on host ${host}) holds the lock file ${path}; this host cannot tell whether it still runs: wait for it to finish, remove the file if ${host} is gone, or use --no-lock`
          : `another signalq process (PID ${pid}) holds the lock file ${path}; wait for it to finish, or use --no-lock`,
    );
  }
}

/** The database cannot be reached or is unfit (too old). */
export class DatabaseError extends Error {
  override name = 'DatabaseError';
}

/** A handler ran past its timeout. */
export class HandlerTimeoutError extends Error {
  override name = 'HandlerTimeoutError';
}

/**
 * The one-line message of anything thrown (errors thrown as strings or objects included). Never throws itself,
 * whatever was thrown (a Proxy whose traps throw, a getter that throws, a message that is not a string).
 */
export function messageOf(err: unknown): string {
  try {
    if (err instanceof Error) return String(err.message || err.name);
    if (typeof err === 'string') return err;
    return JSON.stringify(err) ?? String(err);
  } catch {
    try {
      return String(err);
    } catch {
      return 'a thrown value that cannot be read';
    }
  }
}
