/**
 * The end of the run: one table (signalq on SQLite and MariaDB side by side, with issue 5's targets and the
 * database floors measured in the same run) and one JSON line with every figure.
 */
import type { ResolvedOptions } from '../../src/config.ts';
import type { Dialect } from './settings.ts';
import type { EnqueueFigure, ProcessFigure } from './throughput.ts';
import type { IdleAndLatency } from './latency.ts';
import type { ScaleFigure, LongRunFigure } from './workers.ts';
import type { HistoryFigure } from './history.ts';
import type { Floor } from './floors.ts';
import type { CliFigure } from './cli.ts';
import { num } from './stats.ts';

export interface DialectResults {
  dialect: Dialect;
  database: string;
  server?: string;
  options?: ResolvedOptions;
  enqueue?: EnqueueFigure | null;
  process1?: ProcessFigure | null;
  process3?: ProcessFigure | null;
  runs?: { enqueue: number[]; process1: number[]; process3: number[] };
  idleAndLatency?: IdleAndLatency;
  floor?: Floor | null;
  scale?: ScaleFigure[];
  history?: HistoryFigure;
  long?: LongRunFigure;
  cli?: CliFigure;
  /** Sections that failed, with why. */
  failures: { section: string; error: string }[];
}

type Row = [string, string, string, string];

const mark = (ok: boolean | null) => (ok === null ? '' : ok ? ' ok' : ' MISS');
const ratio = (a: number | undefined | null, b: number | undefined | null) => (a && b ? (a / b).toFixed(2) : '-');

/** The floor figures comparable with signalq's: bulk insert and the queue floor (SQLite: synchronous=FULL, signalq's setting). */
function floorOf(r: DialectResults | undefined): { insert?: number; queue?: number } {
  const f = r?.floor;
  if (!f) return {};
  if (f.dialect === 'mysql') return { insert: f.figures.insert_rows_s, queue: f.figures.queue_floor_rows_s };
  const full = f.figures.find((x) => x.synchronous === 'FULL') ?? f.figures[0];
  return { insert: full?.insert_rows_s, queue: full?.queue_floor_rows_s };
}

export function buildTable(results: DialectResults[]): string {
  const by = (d: Dialect) => results.find((r) => r.dialect === d);
  const sq = by('sqlite');
  const my = by('mysql');
  const cell = (r: DialectResults | undefined, f: (r: DialectResults) => string | null | undefined) => (r ? (f(r) ?? '-') : 'not run');
  const rows: Row[] = [];
  const add = (label: string, f: (r: DialectResults) => string | null | undefined, target = '') => rows.push([label, cell(sq, f), cell(my, f), target]);

  add('bulk enqueue (enqueueMany), items/s', (r) => r.enqueue && num(r.enqueue.itemsPerSec) + mark(r.dialect === 'mysql' ? r.enqueue.itemsPerSec >= 30_000 : null), '>= 30,000 (MariaDB)');
  add('processing, 1 no-op handler, items/s', (r) => r.process1 && num(r.process1.itemsPerSec) + mark(r.process1.itemsPerSec >= 10_000), '>= 10,000');
  add('processing, 3 no-op handlers, items/s', (r) => r.process3 && num(r.process3.itemsPerSec) + mark(r.dialect === 'mysql' ? r.process3.itemsPerSec >= 6_000 : null), '>= 6,000 (MariaDB)');
  add('CPU of the worker process per item, us (1 / 3 handlers)', (r) => r.process1 && r.process3 && `${r.process1.cpuUsPerItem} / ${r.process3.cpuUsPerItem}`, 'SQLite: includes the db');
  // Issue 11's targets compare the per-item paths: each command's start-up (a fixed cost, measured apart) left out.
  const spread = (c: CliFigure, k: 'enqueueRatioWithoutStartup' | 'processRatioWithoutStartup') => {
    if (c.rounds.length < 2) return '';
    const v = c.rounds.map((r) => r[k]);
    return `, range ${Math.min(...v).toFixed(2)}-${Math.max(...v).toFixed(2)} in ${v.length} rounds`;
  };
  add('CLI: enqueue --file vs enqueueMany, items/s (ratio; without start-up)', (r) => r.cli &&
    `${num(r.cli.enqueueFile.itemsPerSec)} vs ${num(r.cli.enqueueMany.itemsPerSec)} (${r.cli.enqueueRatio.toFixed(2)}; ${r.cli.enqueueRatioWithoutStartup.toFixed(2)}${spread(r.cli, 'enqueueRatioWithoutStartup')})` +
    mark(r.cli.enqueueRatioWithoutStartup >= 0.85), '>= 0.85 w/o start-up (issue 11)');
  add('CLI: process --until-empty vs work(), items/s (ratio; without start-up)', (r) => r.cli &&
    `${num(r.cli.processUntilEmpty.itemsPerSec)} vs ${num(r.cli.work.itemsPerSec)} (${r.cli.processRatio.toFixed(2)}; ${r.cli.processRatioWithoutStartup.toFixed(2)}${spread(r.cli, 'processRatioWithoutStartup')})` +
    mark(r.cli.processRatioWithoutStartup >= 0.85), '>= 0.85 w/o start-up (issue 11)');
  const cpu = (x: number | null) => (x == null ? '-' : x.toFixed(2));
  add('CLI: the same by CPU time, library / command w/o start-up (SQLite: with the database)', (r) => r.cli &&
    `enqueue ${cpu(r.cli.enqueueCpuRatio)}, process ${cpu(r.cli.processCpuRatio)}`, 'steadier under load');
  add('CLI: start-up of enqueue --file (1 line) / process (empty queue), ms', (r) => r.cli &&
    `${num(r.cli.enqueueStartupMs)} / ${num(r.cli.startupMs)} (each CLI figure above pays one; ${num(r.cli.n)} items)`, 'state it');
  add('latency, enqueue in another process, median / p95 ms', (r) => {
    const l = r.idleAndLatency?.otherProcess;
    return l && `${l.medianMs} / ${l.p95Ms}` + mark(l.medianMs <= 10 && l.p95Ms <= 25);
  }, '<= 10 / <= 25');
  add('latency, enqueue in the same process, median / p95 ms', (r) => {
    const l = r.idleAndLatency?.sameProcess;
    return l && `${l.medianMs} / ${l.p95Ms}`;
  }, 'at once');
  add('idle worker: statements/s it sends', (r) => {
    const i = r.idleAndLatency?.idle;
    return i && `${i.clientQueriesPerSec} (poll ${r.idleAndLatency!.pollIntervalMs} ms)`;
  }, 'little; state it');
  add('idle worker: server Questions/s, worker idle vs none', (r) => {
    const i = r.idleAndLatency?.idle;
    return i?.serverQuestionsPerSec == null ? null : `${i.serverQuestionsPerSec} vs ${i.serverBaselinePerSec}`;
  }, '');
  const f = { sqlite: floorOf(sq), mysql: floorOf(my) };
  add('floor: bulk insert, rows/s', (r) => num(f[r.dialect].insert), '');
  add('floor: queue floor (claim 500 + one CASE settle), rows/s', (r) => num(f[r.dialect].queue), '');
  add('ratio: enqueue / floor insert', (r) => ratio(r.enqueue?.itemsPerSec, f[r.dialect].insert), '');
  add('ratio: processing 1 handler / queue floor', (r) => ratio(r.process1?.itemsPerSec, f[r.dialect].queue), '');
  add('ratio: processing 3 handlers / queue floor', (r) => ratio(r.process3?.itemsPerSec, f[r.dialect].queue), '');
  add('scale-out: work processes -> items/s', (r) => r.scale?.length ? r.scale.map((x) => `${x.workers}: ${num(x.itemsPerSec)}`).join(', ') + (r.scale[0].handlerMs ? ` (handlers wait ${r.scale[0].handlerMs} ms)` : '') : null, '4 > 1');
  add('scale-out: run twice / not done / db errors', (r) =>
    r.scale?.length ? `${sum(r.scale, 'duplicates')} / ${sum(r.scale, 'notDone')} / ${sum(r.scale, 'problems')}` + mark(sum(r.scale, 'duplicates') + sum(r.scale, 'notDone') === 0) : null, '0 / 0 / 0');
  add('history: 1 handler, items/s with done rows vs empty', (r) => r.history && `${num(r.history.withHistory.itemsPerSec)} vs ${num(r.history.empty.itemsPerSec)} (${r.history.ratio}, ${num(r.history.historyRows)} rows)` + mark(r.history.ratio >= 0.8), 'within 20%');
  add('long run: work process RSS start / peak MB', (r) => r.long && `${r.long.startRssMb} / ${r.long.peakRssMb} over ${num(r.long.n)} items (${num(r.long.itemsPerSec)}/s)`, 'flat; state peak');
  add('long run: max RSS 2nd / last tenth of the run, MB', (r) => r.long && `${r.long.secondTenthMaxRssMb} / ${r.long.lastTenthMaxRssMb}`, '');

  // Rows of sections that did not run anywhere are left out.
  const shown = rows.filter((r) => [r[1], r[2]].some((c) => c !== '-' && c !== 'not run'));
  rows.splice(0, rows.length, ...shown);
  const header: Row = ['measure', 'SQLite', 'MariaDB', 'target (issue 5)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: Row) => '| ' + r.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}

function sum(xs: ScaleFigure[], k: 'duplicates' | 'notDone' | 'problems'): number {
  return xs.reduce((a, x) => a + x[k], 0);
}
