/**
 * One item: its payload (pretty, collapsible), trials, every handler's result with its error (and, once finished,
 * what it returned), its times and the processor holding it, and the actions its status allows (retry for
 * `error`, delete once finished, cancel while queued or running), each a POST form with the CSRF token. For a job:
 * who started it and for which scope, assigned versus started, its progress bar (moved by the script as it
 * polls), its summary and its history records. The script reloads the page when the item's status changes (a
 * retried item becoming done, a canceled job ending).
 */
import { html } from 'hono/html';
import type { HistoryRecord } from '../../admin/admin.ts';
import type { Item } from '../../types.ts';
import type { Role } from '../security.ts';
import { actionsFor } from '../views.ts';
import { csrfField, statusBadge, when, type Html } from './layout.ts';
import { historyTable, progressBar } from './job-parts.ts';
import { itemsHref } from './items.ts';

/** `host:pid` of an owner split for display (an owner set by app code may be any text). */
export function ownerParts(owner: string): { host: string; pid: string | null } {
  const m = /^(.*):(\d+)$/.exec(owner);
  return m ? { host: m[1], pid: m[2] } : { host: owner, pid: null };
}

/** A handler's returned value as shown: pretty JSON, or nothing when it returned none. */
function shownValue(value: unknown): string {
  return value === undefined ? '' : JSON.stringify(value, null, 2);
}

export function itemPage(item: Item, history: { records: HistoryRecord[]; more: boolean }, role: Role, csrf: string | undefined): Html {
  const now = Date.now();
  const actions = actionsFor(item.status);
  const payload = typeof item.payload === 'string' ? item.payload : JSON.stringify(item.payload, null, 2);
  const owner = item.owner ? ownerParts(item.owner) : null;
  const results = Object.entries(item.results);
  const finished = !actions.cancel;
  return html`<h1>Item ${item.id} <small>${item.type}</small> ${statusBadge(item.status)}${item.cancelRequested && !finished ? html` <span class="warn" id="cancel-requested">cancel requested</span>` : ''}</h1>
<div data-poll="item" data-id="${item.id}" data-status="${item.status}" data-cancel-requested="${item.cancelRequested ? 'yes' : 'no'}">
<section class="actions">
${role === 'admin' && actions.retry ? html`<form method="post" action="/items/${item.id}/retry" class="inline">${csrfField(csrf)}<button type="submit">Retry</button></form>` : ''}
${role === 'admin' && actions.cancel ? html`<form method="post" action="/items/${item.id}/cancel" class="inline">${csrfField(csrf)}<button type="submit" class="danger">Cancel</button></form>` : ''}
${role === 'admin' && actions.delete ? html`<form method="post" action="/items/${item.id}/delete" class="inline">${csrfField(csrf)}<button type="submit" class="danger">Delete</button></form>` : ''}
${role === 'readonly' ? html`<span class="muted">read-only: no actions</span>` : ''}
</section>
${finished && !item.progress ? '' : html`<section><h2>Progress</h2>${progressBar(item.id, item.progress)}${item.progress ? '' : html`<p class="muted" data-no-progress-of="${item.id}">No progress reported yet.</p>`}</section>`}
${item.summary ? html`<p class="summary"><strong>Summary:</strong> <span id="summary">${item.summary}</span></p>` : ''}
<section>
<dl class="facts">
<dt>status</dt><dd>${item.status}</dd>
<dt>trials</dt><dd>${item.trials} of ${item.maxTrials}</dd>
<dt>priority</dt><dd>${item.priority}</dd>
<dt>invoker</dt><dd>${item.invoker !== null ? html`<a href="${itemsHref({ invoker: item.invoker })}" title="items of this invoker">${item.invoker}</a>` : html`<span class="muted">none</span>`}</dd>
<dt>scope</dt><dd>${item.scope !== null ? html`<a href="${itemsHref({ scope: item.scope })}" title="items of this scope">${item.scope}</a>` : html`<span class="muted">none</span>`}</dd>
<dt>dedupe key</dt><dd>${item.key ?? html`<span class="muted">none</span>`}</dd>
<dt>created</dt><dd>${when(item.createdAt, now)}</dd>
<dt>runs at</dt><dd>${when(item.runAt, now)}</dd>
<dt>assigned (last claim)</dt><dd>${when(item.lastTryAt, now)}</dd>
<dt>started</dt><dd>${item.startedAt ? when(item.startedAt, now) : item.status === 'in_progress' ? html`<span class="muted">not yet: waiting in its worker for a free slot</span>` : when(null)}</dd>
<dt>finished</dt><dd>${when(item.finishedAt, now)}</dd>
<dt>held by</dt><dd>${owner ? html`host ${owner.host}${owner.pid ? html`, PID ${owner.pid}` : ''}, lease until ${when(item.leaseUntil, now)}` : html`<span class="muted">no processor</span>`}</dd>
</dl>
</section>
<section>
<h2>Handlers</h2>
${results.length === 0
  ? html`<p class="muted">No handler has run yet.</p>`
  : html`<table class="results"><thead><tr><th>handler</th><th>outcome</th><th>runs</th><th>at</th><th>error or warning</th><th>result${finished ? '' : html` <span class="muted">(shown once finished)</span>`}</th></tr></thead>
<tbody>${results.map(([name, r]) => html`<tr><td>${name}</td><td>${r.ok ? html`<span class="ok">ok</span>` : html`<span class="bad">failed</span>`}</td><td>${r.runs}</td>
<td>${when(new Date(r.at), now)}</td><td><pre class="error">${r.error ?? ''}</pre>${r.warning ? html`<pre class="warn">${r.warning}</pre>` : ''}</td><td><pre class="value">${shownValue(r.value)}</pre></td></tr>`)}</tbody></table>`}
</section>
<section>
<h2>History</h2>
${historyTable(history.records, !finished && !history.more, now)}
${history.more ? html`<p class="muted">Only the first ${history.records.length} records are shown; <a href="/api/items/${item.id}/history?after=${history.records[history.records.length - 1]?.id ?? 0}">the rest as JSON</a>.</p>` : ''}
</section>
<section>
<details open><summary>Payload (${Buffer.byteLength(payload)} bytes)</summary><pre class="payload">${payload}</pre></details>
</section>
</div>`;
}
