/**
 * Small helpers: percentiles, number formatting, sleeping, reading a process's memory.
 */
import { readFileSync } from 'node:fs';

/** The p-th percentile (0-100) by nearest rank; always one of the values. NaN for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** The (lower) median: one of the values. */
export function median(values: number[]): number {
  return percentile(values, 50);
}

export const round1 = (x: number) => Math.round(x * 10) / 10;

/** 12345 -> "12,345"; null/NaN -> "-". */
export function num(x: number | null | undefined): string {
  if (x == null || Number.isNaN(x)) return '-';
  return Math.round(x).toLocaleString('en-US');
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A wall-clock time in ms with sub-ms precision, comparable across processes on one machine. */
export const wallNow = () => performance.timeOrigin + performance.now();

/** Current and peak resident set size of a process, in MB, from /proc (Linux); null when unreadable. */
export function procMemoryMb(pid: number): { rss: number; peak: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return { rss: round1(kb('VmRSS') / 1024), peak: round1(kb('VmHWM') / 1024) };
  } catch {
    return null;
  }
}

/**
 * CPU time (user + system, ms) of this process's children that have ended and been waited for, from /proc/self/stat
 * (cutime + cstime, in clock ticks of 10 ms: Linux's USER_HZ is 100); null when unreadable. The difference around
 * one child's run is that child's CPU time when no other child ends meanwhile.
 */
export function endedChildrenCpuMs(): number | null {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    // After "pid (comm) ", field 3 (state) is index 0: cutime (16) and cstime (17) are 13 and 14.
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return null;
  }
}
