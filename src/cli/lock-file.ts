/**
 * The cron-run batch's lock file: at most one batch per lock file at a time. It holds the holder's PID; a file
 * left by a dead process is taken over (with a warning), one held by a live process refuses the run.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
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
  for (let attempt = 0; attempt < 5; attempt++) {
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
    // Left by a dead process (or empty: one that died while writing). Replace it atomically, then check that we
    // won: two takers racing both rename, and only the last one's PID stays in the file.
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${process.pid}\n`);
    renameSync(tmp, path);
    if (readPid(path) === process.pid) return makeHeld(path, holder);
    tookOverFrom = holder;
  }
  const holder = readPid(path) ?? -1;
  throw new LockBusyError(holder, path);
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
      if (readPid(path) === process.pid) {
        try {
          unlinkSync(path);
        } catch {
          /* already gone */
        }
      }
    },
  };
}
