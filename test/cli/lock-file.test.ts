/**
 * The cron-run batch's lock file: one holder at a time, a dead holder's file taken over, a live one's refused —
 * including the cases that used to let two holders coexist (a file caught empty, a reused PID, racing takers).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { acquireLockFile, isProcessAlive } from '../../src/cli/lock-file.ts';
import { LockBusyError } from '../../src/errors.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'signalq-lock-'));
const onLinux = existsSync('/proc/self/stat') && existsSync('/proc/sys/kernel/random/boot_id');
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** The PID of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
function startTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

const bootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

/** A lock file in the current format, as another process would have written it. */
function writeRecord(path: string, fields: { host?: string; pid: number; start?: number | null; boot?: string | null }): void {
  const record = { host: hostname(), start: null, boot: onLinux ? bootId() : null, token: 'test', ...fields };
  writeFileSync(path, `${JSON.stringify(record)}\n`);
}

const recordIn = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

/** Sets a file's modification time `ms` into the past. */
function age(path: string, ms: number): void {
  const then = new Date(Date.now() - ms);
  utimesSync(path, then, then);
}

describe('lock file', () => {
  it('is taken, records our host, PID and start time, leaves no temp file, and is removed on release', () => {
    const folder = join(dir(), 'sub');
    const path = join(folder, 'q.lock');
    const lock = acquireLockFile(path);
    const record = recordIn(path);
    expect(record).toMatchObject({ host: hostname(), pid: process.pid });
    if (onLinux) expect(record).toMatchObject({ start: startTicks(process.pid), boot: bootId() });
    expect(readdirSync(folder)).toEqual(['q.lock']);
    expect(lock.tookOverFrom).toBeNull();
    lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('is not removed on release once it is no longer ours', () => {
    const path = join(dir(), 'q.lock');
    const lock = acquireLockFile(path);
    writeRecord(path, { pid: process.ppid });
    lock.release();
    expect(recordIn(path).pid).toBe(process.ppid);
  });

  it('refuses while a live process holds it (old format, a bare PID), naming the PID', () => {
    const path = join(dir(), 'q.lock');
    writeFileSync(path, `${process.ppid}\n`);
    expect(isProcessAlive(process.ppid)).toBe(true);
    expect(() => acquireLockFile(path)).toThrow(LockBusyError);
    expect(() => acquireLockFile(path)).toThrow(`(PID ${process.ppid})`);
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.ppid));
  });

  it.skipIf(!onLinux)('refuses while a live process holds it with the start time it recorded', () => {
    const path = join(dir(), 'q.lock');
    writeRecord(path, { pid: process.ppid, start: startTicks(process.ppid) });
    expect(() => acquireLockFile(path)).toThrow(`(PID ${process.ppid})`);
    expect(recordIn(path).pid).toBe(process.ppid);
  });

  it('takes over a lock left by a dead process and says whose it was', () => {
    const path = join(dir(), 'q.lock');
    const dead = deadPid();
    expect(isProcessAlive(dead)).toBe(false);
    writeFileSync(path, `${dead}\n`);
    const lock = acquireLockFile(path);
    expect(lock.tookOverFrom).toBe(dead);
    expect(recordIn(path).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over even when a taker died mid-takeover and left its marker', () => {
    const path = join(dir(), 'q.lock');
    const dead = deadPid();
    writeFileSync(path, `${dead}\n`);
    writeFileSync(`${path}.takeover`, `${dead}\n`);
    const lock = acquireLockFile(path);
    expect(recordIn(path).pid).toBe(process.pid);
    expect(existsSync(`${path}.takeover`)).toBe(false);
    lock.release();
  });

  it('refuses an empty lock file that is still young: its writer may be about to fill it', () => {
    const path = join(dir(), 'q.lock');
    writeFileSync(path, '');
    expect(() => acquireLockFile(path)).toThrow(LockBusyError);
    expect(() => acquireLockFile(path)).toThrow(/empty/);
    expect(readFileSync(path, 'utf8')).toBe('');
  });

  it('takes over an empty lock file older than the grace period: its writer died before filling it', () => {
    const path = join(dir(), 'q.lock');
    writeFileSync(path, '');
    age(path, 60_000);
    const lock = acquireLockFile(path);
    expect(lock.tookOverFrom).toBeNull();
    expect(recordIn(path).pid).toBe(process.pid);
    lock.release();
  });

  it.skipIf(!onLinux)('takes over a lock naming PID 1 when PID 1 started at another time than recorded', () => {
    const path = join(dir(), 'q.lock');
    expect(isProcessAlive(1)).toBe(true);
    writeRecord(path, { pid: 1, start: startTicks(1) + 12345 });
    const lock = acquireLockFile(path);
    expect(lock.tookOverFrom).toBe(1);
    expect(recordIn(path).pid).toBe(process.pid);
    lock.release();
  });

  it.skipIf(!onLinux)('takes over a lock recorded with our own PID but another start time (a previous owner of the PID)', () => {
    const path = join(dir(), 'q.lock');
    writeRecord(path, { pid: process.pid, start: startTicks(process.pid) - 1 });
    const lock = acquireLockFile(path);
    expect(lock.tookOverFrom).toBe(process.pid);
    expect(recordIn(path)).toMatchObject({ pid: process.pid, start: startTicks(process.pid) });
    lock.release();
  });

  it.skipIf(!onLinux)('takes over a lock recorded before the machine rebooted (another boot id), even if its PID is alive', () => {
    const path = join(dir(), 'q.lock');
    writeRecord(path, { pid: process.ppid, start: startTicks(process.ppid), boot: '00000000-0000-0000-0000-000000000000' });
    const lock = acquireLockFile(path);
    expect(lock.tookOverFrom).toBe(process.ppid);
    lock.release();
  });

  it('refuses a lock recorded by another host, naming that host and what to do if it is gone', () => {
    const path = join(dir(), 'q.lock');
    const dead = deadPid();
    writeRecord(path, { host: 'other-host.example', pid: dead, start: 1 });
    expect(() => acquireLockFile(path)).toThrow(LockBusyError);
    expect(() => acquireLockFile(path)).toThrow(/PID \d+ on host other-host\.example\b.*remove the file if other-host\.example is gone/);
    expect(recordIn(path)).toMatchObject({ host: 'other-host.example', pid: dead });
  });

  it('lets exactly one of many processes racing for the same stale lock hold it', async () => {
    const folder = dir();
    const go = join(folder, 'go');
    const dead = deadPid();
    // Sixty stale locks, a third each in the current format, the old one and empty: one race is rarely enough to
    // catch a taker deleting the lock another has just made.
    const paths = Array.from({ length: 60 }, (_, i) => join(folder, `q${i}.lock`));
    paths.forEach((p, i) => {
      if (i % 3 === 0) writeRecord(p, { pid: dead, start: 1 });
      else if (i % 3 === 1) writeFileSync(p, `${dead}\n`);
      else writeFileSync(p, '');
      age(p, 60_000);
    });
    // Each child says "ready", waits for the go file, tries every lock in turn and reports; it holds what it took
    // until its stdin closes, so no lock is freed for a later taker while the race is on.
    const script = `
      const { existsSync } = await import('node:fs');
      const { acquireLockFile } = await import(${JSON.stringify(join(REPO, 'src/cli/lock-file.ts'))});
      const [go, ...paths] = process.argv.slice(1);
      process.stdout.write('ready\\n');
      while (!existsSync(go)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      const results = paths.map((p) => {
        try { acquireLockFile(p); return 'held'; } catch (err) { return err.name === 'LockBusyError' ? 'busy' : 'error: ' + err.message; }
      });
      process.stdout.write(JSON.stringify(results) + '\\n');
      process.stdin.resume();
    `;
    const children = Array.from({ length: 8 }, () =>
      spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, go, ...paths], { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] }),
    );
    try {
      const lines = children.map((child) => {
        let out = '';
        const waiters: (() => void)[] = [];
        child.stdout!.on('data', (d) => {
          out += d;
          waiters.splice(0).forEach((w) => w());
        });
        return async (n: number) => {
          while (out.split('\n').length <= n) await new Promise<void>((r) => waiters.push(r));
          return out.split('\n')[n - 1];
        };
      });
      await Promise.all(lines.map((line) => line(1)));
      writeFileSync(go, '');
      const results: string[][] = await Promise.all(lines.map(async (line) => JSON.parse(await line(2))));
      paths.forEach((p, i) => {
        const outcomes = results.map((r) => r[i]);
        expect(outcomes.filter((o) => o === 'held'), `${p}: ${outcomes.join(', ')}`).toHaveLength(1);
        expect(outcomes.filter((o) => o !== 'held' && o !== 'busy')).toEqual([]);
        expect(recordIn(p).pid).toBe(children[outcomes.indexOf('held')].pid);
      });
      expect(readdirSync(folder).filter((f) => !/^(go|q\d+\.lock)$/.test(f))).toEqual([]); // no temp file or marker left
    } finally {
      for (const child of children) child.kill('SIGKILL');
    }
  });
});
