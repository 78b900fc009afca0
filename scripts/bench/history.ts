/**
 * Cost with history: processing speed with HISTORY_ROWS (default 1,000,000) `done` items in the table against an
 * empty table, both measured in this section back to back. The done rows go in with set-based SQL on the queue's
 * knex (a recursive CTE on SQLite; on MySQL 1,000 multi-row inserted rows doubled by INSERT ... SELECT).
 */
import type { Knex } from 'knex';
import { ITEMS, benchItems, emptyItems, openQueue, type BenchDatabase } from './databases.ts';
import type { Settings } from './settings.ts';
import { timeWork, type ProcessFigure } from './throughput.ts';

export interface HistoryFigure {
  historyRows: number;
  insertMs: number;
  empty: ProcessFigure;
  withHistory: ProcessFigure;
  /** withHistory / empty speed (issue 5: at least 0.8). */
  ratio: number;
}

const COLS = ['type', 'payload', 'status', 'trials', 'max_trials', 'priority', 'run_at', 'results', 'created_at', 'last_try_at', 'finished_at'];

/** Inserts `rows` finished (`done`) items, older than anything the run enqueues. */
export async function insertDoneRows(knex: Knex, dialect: BenchDatabase['dialect'], rows: number): Promise<void> {
  const t = Date.now() - 86_400_000;
  const results = JSON.stringify({ noop0: { ok: true, at: new Date(t).toISOString(), runs: 1 } });
  const text = 'x'.repeat(100);
  if (dialect === 'sqlite') {
    await knex.raw(
      `INSERT INTO ${ITEMS} (${COLS.join(', ')})
       WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < ?)
       SELECT 'bench.old', '{"i":' || x || ',"text":"${text}"}', 'done', 1, 10, 0, ? + x, ?, ? + x, ? + x, ? + x FROM seq`,
      [rows, t, results, t, t, t],
    );
    return;
  }
  const seed = Math.min(1000, rows);
  await knex(ITEMS).insert(
    Array.from({ length: seed }, (_, i) => ({
      type: 'bench.old', payload: JSON.stringify({ i, text }), status: 'done', trials: 1, max_trials: 10, priority: 0,
      run_at: t + i, results, created_at: t + i, last_try_at: t + i, finished_at: t + i,
    })),
  );
  let have = seed;
  while (have < rows) {
    const add = Math.min(have, rows - have, 200_000);
    await knex.raw(`INSERT INTO ${ITEMS} (${COLS.join(', ')}) SELECT ${COLS.join(', ')} FROM ${ITEMS} WHERE status = 'done' LIMIT ?`, [add]);
    have += add;
  }
}

export async function measureHistory(db: BenchDatabase, s: Settings, log: (m: string) => void): Promise<HistoryFigure> {
  const q = await openQueue(db, s);
  try {
    await emptyItems(q.knex);
    await q.enqueueMany(benchItems(s.n));
    const empty = await timeWork(db, s, s.n, 1);
    log(`history: empty table, 1 handler: ${empty.itemsPerSec} items/s`);

    await emptyItems(q.knex);
    const t0 = performance.now();
    await insertDoneRows(q.knex, db.dialect, s.historyRows);
    const insertMs = Math.round(performance.now() - t0);
    log(`history: ${s.historyRows} done rows inserted in ${insertMs} ms`);
    await q.enqueueMany(benchItems(s.n));
    const withHistory = await timeWork(db, s, s.n, 1);
    const ratio = Math.round((withHistory.itemsPerSec / empty.itemsPerSec) * 100) / 100;
    log(`history: ${s.historyRows} done rows, 1 handler: ${withHistory.itemsPerSec} items/s (${ratio} of the empty table) ${JSON.stringify(withHistory.statuses)}`);
    await emptyItems(q.knex);
    return { historyRows: s.historyRows, insertMs, empty, withHistory, ratio };
  } finally {
    await q.close();
  }
}
