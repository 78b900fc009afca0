/**
 * The cron-run batch's lock file: at most one batch per lock file at a time. It holds the holder's PID; a file
 * left by a dead process is taken over (with a warning), one held by a live process refuses the run.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { LockBusyError } from '../errors.ts';

export interface HeldLock {
  path: string;
  /** PID of the dead process whose lock was taken over, if any. */
  tookOverFrom: number | null;
  release(): void;
}

/** Is a process with this PID alive? (Signal 0 checks without signalling.) */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock file at `path`, or throws `LockBusyError` naming the live holder's PID. */
export function acquireLockFile(path: string): HeldLock {
  mkdirSync(dirname(path), { recursive: true });
  let tookOverFrom: number | null = null;
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const fd = openSync(path, 'wx'); // fails if the file exists: the atomic "take it if free"
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return makeHeld(path, tookOverFrom);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readPid(path);
    if (holder !== null && holder !== process.pid && isProcessAlive(holder)) throw new LockBusyError(holder, path);
    if (removeStaleLock(path, holder)) tookOverFrom = holder;
  }
  throw new LockBusyError(readPid(path) ?? -1, path);
}

/**
 * Removes a lock file left by a dead process. Two processes may find the same stale file at once; a marker file
 * taken with O_EXCL lets only one of them remove it, so neither can delete the lock the other has just made.
 * Returns true when this process removed it.
 */
function removeStaleLock(path: string, deadHolder: number | null): boolean {
  const marker = `${path}.takeover`;
  try {
    const fd = openSync(marker, 'wx');
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const markerHolder = readPid(marker);
    if (markerHolder === null || !isProcessAlive(markerHolder)) rmQuietly(marker); // its taker died mid-takeover
    sleepMs(5);
    return false;
  }
  try {
    if (readPid(path) !== deadHolder) return false; // replaced meanwhile: look again
    rmQuietly(path);
    return true;
  } finally {
    rmQuietly(marker);
  }
}

function rmQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function readPid(path: string): number | null {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(n) ? n : null;
  } catch {
    return null;
  }
}

function makeHeld(path: string, tookOverFrom: number | null): HeldLock {
  return {
    path,
    tookOverFrom,
    release() {
      if (readPid(path) === process.pid) rmQuietly(path);
    },
  };
}
