import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { acquireLockFile, isProcessAlive } from '../../src/cli/lock-file.ts';
import { LockBusyError } from '../../src/errors.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'signalq-lock-'));

/** The PID of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('lock file', () => {
  it('is taken, holds our PID, and is removed on release', () => {
    const path = join(dir(), 'sub', 'q.lock');
    const lock = acquireLockFile(path);
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid));
    expect(lock.tookOverFrom).toBeNull();
    lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('refuses while a live process holds it, naming the PID', () => {
    const path = join(dir(), 'q.lock');
    writeFileSync(path, `${process.ppid}\n`);
    expect(isProcessAlive(process.ppid)).toBe(true);
    expect(() => acquireLockFile(path)).toThrow(LockBusyError);
    expect(() => acquireLockFile(path)).toThrow(`(PID ${process.ppid})`);
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.ppid));
  });

  it('takes over a lock left by a dead process and says whose it was', () => {
    const path = join(dir(), 'q.lock');
    const dead = deadPid();
    expect(isProcessAlive(dead)).toBe(false);
    writeFileSync(path, `${dead}\n`);
    const lock = acquireLockFile(path);
    expect(lock.tookOverFrom).toBe(dead);
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid));
    lock.release();
  });

  it('takes over even when a taker died mid-takeover and left its marker', () => {
    const path = join(dir(), 'q.lock');
    const dead = deadPid();
    writeFileSync(path, `${dead}\n`);
    writeFileSync(`${path}.takeover`, `${dead}\n`);
    const lock = acquireLockFile(path);
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid));
    expect(existsSync(`${path}.takeover`)).toBe(false);
    lock.release();
  });
});
