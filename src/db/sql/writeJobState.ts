/**
 * A running job's live state: when its handlers started, its progress and its summary line. Fenced by the claim
 * like every write to a claimed item, so a processor that lost its claim changes nothing.
 */
import type { Knex } from 'knex';
import { valueById } from './value-by-id.ts';
import { ITEMS } from '../rows.ts';
import { fencedBy, runFenced } from './fence.ts';

/** One claimed item's live state to write; absent fields are left as they are. */
export interface JobStateEntry {
  id: number;
  token: string;
  /** When its handlers started (kept if already set on this trial). */
  startedAt?: number;
  progress?: { done: number; size: number | null; message: string | null };
  summary?: string;
}

/**
 * Writes the entries: start marks alone share one statement (the common case: many items of a batch start
 * together); an entry with progress or a summary gets its own. Returns how many items it wrote.
 */
export async function writeJobState(knex: Knex, entries: JobStateEntry[]): Promise<number> {
  let written = 0;
  const startsOnly = entries.filter((e) => e.progress === undefined && e.summary === undefined && e.startedAt !== undefined);
  if (startsOnly.length > 0) {
    const bindings: unknown[] = [];
    const starts = valueById(startsOnly.map((e) => e.id), startsOnly.map((e) => e.startedAt), bindings);
    const sql = `UPDATE ${ITEMS} SET started_at = COALESCE(started_at, ${starts}) WHERE ${fencedBy(startsOnly, bindings)}`;
    written += await runFenced(knex, sql, bindings);
  }
  for (const e of entries) {
    if (e.progress === undefined && e.summary === undefined) continue;
    const set: string[] = [];
    const bindings: unknown[] = [];
    if (e.startedAt !== undefined) set.push('started_at = COALESCE(started_at, ?)'), bindings.push(e.startedAt);
    if (e.progress) {
      set.push('progress_done = ?', 'progress_total = ?', 'progress_message = ?');
      bindings.push(e.progress.done, e.progress.size, e.progress.message);
    }
    if (e.summary !== undefined) set.push('summary = ?'), bindings.push(e.summary);
    const sql = `UPDATE ${ITEMS} SET ${set.join(', ')} WHERE ${fencedBy([e], bindings)}`;
    written += await runFenced(knex, sql, bindings);
  }
  return written;
}
