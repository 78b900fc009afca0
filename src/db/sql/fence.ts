/**
 * The fence of the writes that settle or update claimed items: each item is written only while it is still held
 * under its claim token, so a processor that lost its claim (its lease ran out and another processor took the
 * item) changes nothing.
 */
import type { Knex } from 'knex';
import { dialectOf, retryOnLockConflict } from '../dialect.ts';

/**
 * Splits entries into runs in which every id appears once, keeping their order: one statement each, since a fenced
 * write's CASE picks a value by id alone (see `settleItems`).
 */
export function distinctIds<E extends { id: number }>(entries: E[]): E[][] {
  const groups: { ids: Set<number>; entries: E[] }[] = [];
  for (const e of entries) {
    let g = groups.find((x) => !x.ids.has(e.id));
    if (!g) groups.push((g = { ids: new Set(), entries: [] }));
    g.ids.add(e.id);
    g.entries.push(e);
  }
  return groups.map((g) => g.entries);
}

/** The WHERE of a fenced write: each item only while it is still held under its claim token. */
export function fencedBy(entries: { id: number; token: string }[], bindings: unknown[]): string {
  const byToken = new Map<string, number[]>();
  for (const e of entries) {
    const ids = byToken.get(e.token) ?? [];
    ids.push(e.id);
    byToken.set(e.token, ids);
  }
  const where: string[] = [];
  for (const [token, ids] of byToken) {
    where.push(`(claim_token = ? AND id IN (${ids.map(() => '?').join(', ')}))`);
    bindings.push(token, ...ids);
  }
  return where.join(' OR ');
}

/** Runs a fenced write on the hot path, again on a lock conflict. Returns how many items it wrote. */
export function runFenced(knex: Knex, sql: string, bindings: unknown[]): Promise<number> {
  const dialect = dialectOf(knex);
  return retryOnLockConflict(async () => dialect.changedRowsOf(await dialect.run(knex, sql, bindings)));
}
