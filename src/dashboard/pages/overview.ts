/**
 * The overview: counts per status and per type (types no live worker takes flagged), how long the oldest runnable
 * item has waited, and items finished per interval as a small chart. The page's script refreshes it from
 * `/api/overview` every few seconds.
 */
import { html } from 'hono/html';
import { ITEM_STATUSES } from '../../types.ts';
import type { Overview } from '../overview-cache.ts';
import { THROUGHPUT_BUCKET_MS, THROUGHPUT_WINDOW_MS, fillIntervals, throughputWindow, type Throughput } from '../../admin/throughput.ts';
import { relative, statusBadge, when, type Html } from './layout.ts';

/** Chart size in SVG units. */
export const CHART = { width: 600, height: 120 };

/** The points of one line of the chart: values spread over the width, the largest at the top. */
export function chartPoints(values: number[], max: number, { width, height } = CHART): string {
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  return values.map((v, i) => `${Math.round(i * step * 10) / 10},${Math.round((height - (max > 0 ? (v / max) * height : 0)) * 10) / 10}`).join(' ');
}

/** Items per second in the busiest interval (the chart's top), at least 1 so an idle chart is flat at the bottom. */
export function chartMax(t: Throughput): number {
  return Math.max(1, ...t.intervals.map((i) => Math.max(i.done, i.error)));
}

export function throughputChart(t: Throughput): Html {
  const max = chartMax(t);
  const perS = (n: number) => Math.round((n / (t.bucketMs / 1000)) * 10) / 10;
  const last = t.intervals.slice(-2, -1)[0] ?? { done: 0, error: 0 };
  return html`<figure class="chart">
<svg id="chart" viewBox="-2 -2 ${CHART.width + 4} ${CHART.height + 4}" width="${CHART.width}" height="${CHART.height}" role="img" aria-label="items finished per interval">
<line x1="0" y1="${CHART.height}" x2="${CHART.width}" y2="${CHART.height}" class="axis"></line>
<polyline id="chart-done" class="line-done" fill="none" points="${chartPoints(t.intervals.map((i) => i.done), max)}"></polyline>
<polyline id="chart-error" class="line-error" fill="none" points="${chartPoints(t.intervals.map((i) => i.error), max)}"></polyline>
</svg>
<figcaption>Finished per ${t.bucketMs / 1000} s over the last ${Math.round((t.intervals.length * t.bucketMs) / 60_000)} min
(top: <span id="chart-max">${max}</span>). Last full interval: <span class="done-key">done <span id="rate-done">${perS(last.done)}</span>/s</span>,
<span class="error-key">failed <span id="rate-error">${perS(last.error)}</span>/s</span>.</figcaption>
</figure>`;
}

/** How long the overview page waits for a count under way before it is served with placeholders (ms). */
export const OVERVIEW_WAIT_MS = 300;

/** The overview; with null (a count still under way), the same page with "…" where its script fills in numbers. */
export function overviewPage(o: Overview | null): Html {
  const s = o?.stats;
  const shown = (v: unknown) => (o ? v : '…');
  let throughput = o?.throughput;
  if (!throughput) {
    const { since, count } = throughputWindow(Date.now(), THROUGHPUT_WINDOW_MS, THROUGHPUT_BUCKET_MS);
    throughput = fillIntervals([], since, count, THROUGHPUT_BUCKET_MS);
  }
  const types = s?.types ?? [];
  return html`<h1>Overview</h1>
<div data-poll="overview">
<p class="muted">Counted <span id="counted-age">${o ? relative(o.countedAt.getTime() - Date.now()) : 'counting now…'}</span> (the count took <span id="read-ms">${shown(o?.readMs)}</span> ms; a long one is repeated less often); refreshes on its own.</p>
<section>
<h2>Items by status</h2>
<table class="counts"><thead><tr>${ITEM_STATUSES.map((st) => html`<th>${statusBadge(st)}</th>`)}<th>total</th></tr></thead>
<tbody><tr>${ITEM_STATUSES.map((st) => html`<td><a href="/items?status=${st}" data-count="${st}">${shown(s?.counts[st])}</a></td>`)}<td id="count-total">${shown(s?.total)}</td></tr></tbody></table>
<p>Oldest runnable item due: <span id="oldest-due">${!s ? '…' : s.oldestDueAt ? when(s.oldestDueAt) : 'nothing waiting'}</span></p>
</section>
<section>
<h2>Finished items</h2>
${throughputChart(throughput)}
</section>
<section>
<h2>Items by type</h2>
<table class="types"><thead><tr><th>type</th>${ITEM_STATUSES.map((st) => html`<th>${st}</th>`)}<th>handlers of live workers</th></tr></thead>
<tbody id="types-body">${types.map((t) => html`<tr${t.noHandler ? html` class="flagged"` : ''}>
<td><a href="/items?type=${encodeURIComponent(t.type)}">${t.type}</a></td>
${ITEM_STATUSES.map((st) => html`<td>${t.counts[st] ?? 0}</td>`)}
<td>${t.noHandler ? html`<span class="warn">no live worker takes this type</span>` : t.handlers.join(', ')}</td></tr>`)}</tbody></table>
${types.length === 0 ? html`<p class="muted" id="types-empty">${o ? 'No items yet.' : 'Counting…'}</p>` : ''}
</section>
</div>`;
}
