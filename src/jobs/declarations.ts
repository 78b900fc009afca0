/**
 * Job types as the people who start them see them: each type with its help text, its parameters (a JSON Schema)
 * and the handlers that take it. What a worker connects is recorded in its workers-table row, so the CLI and the
 * dashboard (which connect no handlers) list the types the live workers take, and check payloads against them.
 */
import type { Knex } from 'knex';
import { listWorkers } from '../db/sql/listWorkers.ts';
import type { Handler } from '../types.ts';
import { WORKER_LIVE_MS } from '../worker/wake.ts';

/** A handler as a worker records it. */
export interface HandlerRecord {
  name: string;
  types: readonly string[] | '*';
  help?: string;
  params?: Record<string, unknown>;
  isolated?: boolean;
}

/** One item type as `signalq types` lists it. */
export interface JobType {
  type: string;
  /** Help texts of its handlers (usually one). */
  help: string | null;
  /** The parameters its handlers declare (JSON Schema objects; usually one), or empty. */
  params: Record<string, unknown>[];
  /** Handlers that take it, here or in a live worker. */
  handlers: string[];
  /** Some handler of it runs isolated, in a child process. */
  isolated: boolean;
  /** A live worker takes it (false: only this process's handlers do, and no worker will run it yet). */
  live: boolean;
}

/** What a worker records of a handler (its declaration, without the code). */
export function recordOf(h: Handler): HandlerRecord {
  const r: HandlerRecord = { name: h.name, types: h.types };
  if (h.help !== undefined) r.help = h.help;
  if (h.params !== undefined) r.params = h.params;
  if (h.isolated) r.isolated = true;
  return r;
}

/** A worker row's recorded handlers (older rows recorded names only: handlers of unknown types). */
export function parseHandlerRecords(text: string): HandlerRecord[] {
  try {
    const v = JSON.parse(text);
    if (!Array.isArray(v)) return [];
    return v.flatMap((h): HandlerRecord[] => {
      if (typeof h === 'string') return [{ name: h, types: [] }];
      if (!h || typeof h.name !== 'string') return [];
      const types = h.types === '*' ? '*' : Array.isArray(h.types) ? h.types.map(String) : [];
      const params = h.params && typeof h.params === 'object' && !Array.isArray(h.params) ? h.params : undefined;
      return [{ name: h.name, types, help: typeof h.help === 'string' ? h.help : undefined, params, isolated: h.isolated === true }];
    });
  } catch {
    return [];
  }
}

/** The item types of these handlers (`local`) and live workers' handlers (`live`), by type name. */
export function jobTypesOf(local: HandlerRecord[], live: HandlerRecord[]): JobType[] {
  const byType = new Map<string, JobType & { seen: Set<string>; schemas: Set<string> }>();
  const add = (h: HandlerRecord, isLive: boolean) => {
    if (h.types === '*') return;
    for (const type of h.types) {
      let t = byType.get(type);
      if (!t) byType.set(type, (t = { type, help: null, params: [], handlers: [], isolated: false, live: false, seen: new Set(), schemas: new Set() }));
      t.live ||= isLive;
      t.isolated ||= !!h.isolated;
      if (h.help && !t.help) t.help = h.help;
      if (h.params) {
        const key = JSON.stringify(h.params);
        if (!t.schemas.has(key)) t.schemas.add(key), t.params.push(h.params);
      }
      if (!t.seen.has(h.name)) t.seen.add(h.name), t.handlers.push(h.name);
    }
  };
  for (const h of live) add(h, true);
  for (const h of local) add(h, false);
  return [...byType.values()].sort((a, b) => a.type.localeCompare(b.type)).map(({ seen, schemas, ...t }) => t);
}

/** How long the live workers' declarations are reused before they are read again. */
const CACHE_MS = 5_000;

/**
 * The parameter schemas of each type, from this process's handlers and the live workers, read at most once per
 * `CACHE_MS`: an enqueue of a type with no declaration costs a map lookup.
 */
export class Declarations {
  private live: { at: number; records: HandlerRecord[] } | null = null;
  /**
   * `schemasFor`'s answers, for the live records and local handlers they were made from: an enqueue asks per item
   * type, and this is on its path.
   */
  private answers: { live: HandlerRecord[] | null; localCount: number; byType: Map<string, Record<string, unknown>[]> } | null = null;

  constructor(
    private readonly local: () => Handler[],
    private readonly now: () => number,
  ) {}

  /** Every type known here or to a live worker. */
  async types(db: Knex | Knex.Transaction): Promise<JobType[]> {
    return jobTypesOf(this.local().map(recordOf), await this.liveRecords(db, true));
  }

  /** The parameter schemas declared for `type` (empty: none, the payload is not checked). */
  async schemasFor(type: string, db: Knex | Knex.Transaction): Promise<Record<string, unknown>[]> {
    const live = await this.liveRecords(db, false);
    const local = this.local();
    // Handlers are only ever added, so their count says whether the local ones changed.
    if (!this.answers || this.answers.live !== live || this.answers.localCount !== local.length) {
      this.answers = { live, localCount: local.length, byType: new Map() };
    }
    let found = this.answers.byType.get(type);
    if (!found) {
      const schemas = new Map<string, Record<string, unknown>>();
      for (const h of [...local.map(recordOf), ...live]) {
        if (h.params && (h.types === '*' || h.types.includes(type))) schemas.set(JSON.stringify(h.params), h.params);
      }
      this.answers.byType.set(type, (found = [...schemas.values()]));
    }
    return found;
  }

  private async liveRecords(db: Knex | Knex.Transaction, fresh: boolean): Promise<HandlerRecord[]> {
    const now = this.now();
    if (!fresh && this.live && now - this.live.at < CACHE_MS) return this.live.records;
    const liveSince = now - WORKER_LIVE_MS;
    const rows = await listWorkers(db as Knex);
    const records = rows.filter((w) => Number(w.seen_at) >= liveSince).flatMap((w) => parseHandlerRecords(w.handlers));
    this.live = { at: now, records };
    return records;
  }
}
