/**
 * The cron-run batch's lock file: at most one batch per lock file at a time. It records who holds it: host name,
 * PID, and the process's start time and the machine's boot id, so that a PID since reused by another process (PID 1
 * after a reboot, say) is not mistaken for the holder. A file left by a dead process is taken over (with a warning);
 * one held by a live process refuses the run, and so does one held on another host, which cannot be checked from here.
 *
 * The lock file never exists without its content: it is written under a unique temporary name and hard-linked into
 * place (link fails if the name is taken: the atomic "take it if free"), so a reader never mistakes a lock being made
 * for an abandoned one. Files written by older versions (a bare PID line, created empty and then written) are still
 * read, and one found empty or unreadable is left to its writer for a few seconds before it counts as abandoned.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { LockBusyError } from '../errors.ts';

export interface HeldLock {
  path: string;
  /** PID of the dead process whose lock was taken over, if any (null too when the file taken over was empty). */
  tookOverFrom: number | null;
  /** Removes the lock file, if it is still the one this lock made. */
  release(): void;
}

/** How long an empty or unreadable lock file is left to its writer before it counts as abandoned. */
const UNWRITTEN_GRACE_MS = 5_000;

/** Who made a lock file (or a takeover marker), as recorded in it. */
interface Holder {
  /** null for the old format (a bare PID), which was only ever checked on the host reading it */
  host: string | null;
  pid: number;
  /** When the process started: field 22 of /proc/<pid>/stat (clock ticks since boot); null where /proc is unreadable. */
  start: number | null;
  /** /proc/sys/kernel/random/boot_id when the file was written: another one now means the machine has rebooted. */
  boot: string | null;
}

/** A file's content and identity, read at one moment. */
interface Snapshot {
  text: string;
  dev: number;
  ino: number;
  mtimeMs: number;
}

/** What a lock file's content says: held by a live process here, held on another host, abandoned, or not yet written. */
type Verdict =
  | { state: 'alive' | 'foreign'; holder: Holder }
  | { state: 'dead'; holder: Holder | null }
  | { state: 'unwritten' };

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

/**
 * Takes the lock file at `path`, or throws `LockBusyError` naming the live holder's PID (and its host, if another
 * one's). A lock whose holder is gone is taken over, and `tookOverFrom` says whose it was.
 */
export function acquireLockFile(path: string): HeldLock {
  mkdirSync(dirname(path), { recursive: true });
  const ours = ourRecord();
  let tookOverFrom: number | null = null;
  for (let attempt = 0; attempt < 50; attempt++) {
    if (createWith(path, ours)) return makeHeld(path, ours, tookOverFrom);
    const found = snapshot(path);
    if (found === null) continue; // removed meanwhile: try again
    const verdict = judge(found);
    if (verdict.state === 'alive') throw new LockBusyError(verdict.holder.pid, path);
    if (verdict.state === 'foreign') throw new LockBusyError(verdict.holder.pid, path, verdict.holder.host);
    if (verdict.state === 'unwritten') throw new LockBusyError(null, path);
    if (removeStale(path, found)) tookOverFrom = verdict.holder?.pid ?? null;
  }
  throw new LockBusyError(null, path); // other takers kept it changing; the next run will find it settled
}

/** Reads who holds a lock file, and whether they still do. */
function judge(found: Snapshot): Verdict {
  const holder = parseHolder(found.text);
  if (holder === null) return Date.now() - found.mtimeMs < UNWRITTEN_GRACE_MS ? { state: 'unwritten' } : { state: 'dead', holder: null };
  if (holder.host !== null && holder.host !== hostname()) return { state: 'foreign', holder };
  return { state: isHolderAlive(holder) ? 'alive' : 'dead', holder };
}

/**
 * Is the process that wrote this record (on this host) still running? Its PID must be alive and, where /proc tells,
 * belong to a process that started when the recorded one did, on the same boot; elsewhere the PID alone decides.
 */
function isHolderAlive(holder: Holder): boolean {
  const boot = bootId();
  if (holder.boot !== null && boot !== null && holder.boot !== boot) return false; // written before the last reboot
  if (!isProcessAlive(holder.pid)) return false;
  if (holder.start !== null) {
    const start = startTicks(holder.pid);
    if (start !== null) return start === holder.start; // another start time: the PID has been reused
  }
  return holder.pid !== process.pid; // PID only: our own PID, unrecorded, was a previous process's
}

/** A lock file's content: the current format (JSON), the old one (a bare PID line), or null if neither. */
function parseHolder(text: string): Holder | null {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const pid = Number(trimmed);
    return pid > 0 ? { host: null, pid, start: null, boot: null } : null;
  }
  try {
    const r = JSON.parse(trimmed) as Record<string, unknown>;
    if (typeof r !== 'object' || r === null || !Number.isSafeInteger(r.pid) || (r.pid as number) <= 0) return null;
    return {
      host: typeof r.host === 'string' ? r.host : null,
      pid: r.pid as number,
      start: Number.isSafeInteger(r.start) ? (r.start as number) : null,
      boot: typeof r.boot === 'string' ? r.boot : null,
    };
  } catch {
    return null;
  }
}

/** This process as a lock file records it; the random token tells apart the files it writes. */
function ourRecord(): string {
  const record = { host: hostname(), pid: process.pid, start: startTicks(process.pid), boot: bootId(), token: randomBytes(8).toString('hex') };
  return `${JSON.stringify(record)}\n`;
}

/** When the process started, in clock ticks since boot (field 22 of /proc/<pid>/stat), or null where unreadable. */
function startTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]); // after "pid (comm) ", field 3 on
    return Number.isSafeInteger(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

let cachedBootId: string | null | undefined;

/** This boot of the machine (Linux), or null where unknown. */
function bootId(): string | null {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      cachedBootId = null;
    }
  }
  return cachedBootId;
}

/**
 * Creates `path` holding `text`, or returns false if it exists. The text goes to a unique temporary file in the same
 * folder, which is then hard-linked to `path`: the file appears with its content, never empty.
 */
function createWith(path: string, text: string): boolean {
  const temp = uniqueSibling(path, 'tmp');
  try {
    writeFileSync(temp, text, { flag: 'wx' });
    linkSync(temp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') return createWithoutLink(path, text);
    throw err;
  } finally {
    rmQuietly(temp);
  }
}

/**
 * Where the file system has no hard links: create with O_EXCL, then write. The file is empty for a moment, which
 * readers allow for (an empty file is not taken over while young).
 */
function createWithoutLink(path: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Removes the lock file judged stale, unless it has changed since. Two processes may find the same stale file at
 * once; a marker file, created like the lock itself, lets only one of them at a time remove it, and that one removes
 * it only if it is still the very file judged stale, so neither can delete a lock the other has just made.
 * Returns true when this process removed it.
 */
function removeStale(path: string, stale: Snapshot): boolean {
  const marker = `${path}.takeover`;
  const ours = ourRecord();
  if (!createWith(marker, ours)) {
    const found = snapshot(marker);
    if (found !== null && judge(found).state === 'dead' && removeIfUnchanged(marker, found)) return false; // its taker died mid-takeover
    sleepMs(5);
    return false;
  }
  try {
    const now = snapshot(path);
    if (now === null || !sameFile(now, stale)) return false; // replaced or removed meanwhile: look again
    rmQuietly(path);
    return true;
  } finally {
    removeIfOurs(marker, ours);
  }
}

/**
 * Removes an abandoned marker if it is still the one judged abandoned. It is moved aside first (only one process can
 * move a given file) and checked there; one that turns out to be a live taker's, made meanwhile, is linked back.
 */
function removeIfUnchanged(path: string, judged: Snapshot): boolean {
  const aside = uniqueSibling(path, 'stale');
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    const moved = snapshot(aside);
    if (moved !== null && sameFile(moved, judged)) return true;
    try {
      linkSync(aside, path);
    } catch {
      /* another taker has made one since: it stands */
    }
    return false;
  } finally {
    rmQuietly(aside);
  }
}

/** Removes `path` if it still holds `text` (which, with its random token, only its maker wrote). */
function removeIfOurs(path: string, text: string): void {
  if (snapshot(path)?.text === text) rmQuietly(path);
}

/** The file's content and identity, or null if it does not exist. */
function snapshot(path: string): Snapshot | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const { dev, ino, mtimeMs } = fstatSync(fd);
    return { text: readFileSync(fd, 'utf8'), dev, ino, mtimeMs };
  } finally {
    closeSync(fd);
  }
}

function sameFile(a: Snapshot, b: Snapshot): boolean {
  return a.text === b.text && a.dev === b.dev && a.ino === b.ino && a.mtimeMs === b.mtimeMs;
}

/** A name next to `path` that no other process will use. */
function uniqueSibling(path: string, kind: string): string {
  return `${path}.${kind}-${process.pid}-${randomBytes(6).toString('hex')}`;
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

function makeHeld(path: string, text: string, tookOverFrom: number | null): HeldLock {
  return {
    path,
    tookOverFrom,
    release() {
      removeIfOurs(path, text);
    },
  };
}
