/**
 * The workers page: every registered worker with host, PID, handlers, last seen and the items it holds; silent
 * ones (unseen for 15 s) flagged. The script refreshes the table from `/api/workers`.
 */
import { html } from 'hono/html';
import type { WorkerView } from '../views.ts';
import { when, type Html } from './layout.ts';

export function workersPage(v: { workers: WorkerView[]; otherHolders: { owner: string; count: number; firstId: number }[] }): Html {
  const now = Date.now();
  return html`<h1>Workers</h1>
<div data-poll="workers">
<table class="workers"><thead><tr><th>host</th><th>PID</th><th>handlers (types)</th><th>started</th><th>last seen</th><th>items held</th></tr></thead>
<tbody id="workers-body">${v.workers.map((w) => html`<tr${w.silent ? html` class="flagged"` : ''}>
<td>${w.host}</td><td>${w.pid}</td>
<td>${Object.entries(w.takes).map(([name, types]) => html`<div>${name} <span class="muted">(${types === '*' ? 'every type' : types.join(', ')})</span></div>`)}</td>
<td>${when(w.startedAt, now)}</td>
<td>${when(w.seenAt, now)}${w.silent ? html` <span class="warn">silent</span>` : ''}</td>
<td>${w.held > 0 ? html`${w.held} (first <a href="/items/${w.firstHeldId}">${w.firstHeldId}</a>)` : '0'}</td></tr>`)}</tbody></table>
${v.workers.length === 0 ? html`<p class="muted">No worker has registered: nothing is being processed.</p>` : ''}
${v.otherHolders.length > 0
  ? html`<h2>Held by processors without a worker row</h2><ul>${v.otherHolders.map((h) => html`<li>${h.owner}: ${h.count} (first <a href="/items/${h.firstId}">${h.firstId}</a>)</li>`)}</ul>`
  : ''}
</div>`;
}
