/**
 * One item: its payload (pretty, collapsible), trials, every handler's result with its error, its times and the
 * processor holding it, and the actions its status allows (retry for `error`, delete once finished), each a POST
 * form with the CSRF token. The script reloads the page when the item's status changes (a retried item becoming
 * done, say).
 */
import { html } from 'hono/html';
import type { Item } from '../../types.ts';
import type { Role } from '../security.ts';
import { actionsFor } from '../views.ts';
import { csrfField, statusBadge, when, type Html } from './layout.ts';

/** `host:pid` of an owner split for display (an owner set by app code may be any text). */
export function ownerParts(owner: string): { host: string; pid: string | null } {
  const m = /^(.*):(\d+)$/.exec(owner);
  return m ? { host: m[1], pid: m[2] } : { host: owner, pid: null };
}

export function itemPage(item: Item, role: Role, csrf: string | undefined): Html {
  const now = Date.now();
  const actions = actionsFor(item.status);
  const payload = typeof item.payload === 'string' ? item.payload : JSON.stringify(item.payload, null, 2);
  const owner = item.owner ? ownerParts(item.owner) : null;
  const results = Object.entries(item.results);
  return html`<h1>Item ${item.id} <small>${item.type}</small> ${statusBadge(item.status)}</h1>
<div data-poll="item" data-id="${item.id}" data-status="${item.status}">
<section class="actions">
${role === 'admin' && actions.retry ? html`<form method="post" action="/items/${item.id}/retry" class="inline">${csrfField(csrf)}<button type="submit">Retry</button></form>` : ''}
${role === 'admin' && actions.delete ? html`<form method="post" action="/items/${item.id}/delete" class="inline">${csrfField(csrf)}<button type="submit" class="danger">Delete</button></form>` : ''}
<!-- Cancel (queued or running jobs) comes with jobs: POST /items/:id/cancel. -->
${role === 'readonly' ? html`<span class="muted">read-only: no actions</span>` : ''}
</section>
<!-- Jobs: the live progress bar, the history records and the returned value go here. -->
<section>
<dl class="facts">
<dt>status</dt><dd>${item.status}</dd>
<dt>trials</dt><dd>${item.trials} of ${item.maxTrials}</dd>
<dt>priority</dt><dd>${item.priority}</dd>
<dt>dedupe key</dt><dd>${item.key ?? html`<span class="muted">none</span>`}</dd>
<dt>created</dt><dd>${when(item.createdAt, now)}</dd>
<dt>runs at</dt><dd>${when(item.runAt, now)}</dd>
<dt>last trial</dt><dd>${when(item.lastTryAt, now)}</dd>
<dt>finished</dt><dd>${when(item.finishedAt, now)}</dd>
<dt>held by</dt><dd>${owner ? html`host ${owner.host}${owner.pid ? html`, PID ${owner.pid}` : ''}, lease until ${when(item.leaseUntil, now)}` : html`<span class="muted">no processor</span>`}</dd>
</dl>
</section>
<section>
<h2>Handlers</h2>
${results.length === 0
  ? html`<p class="muted">No handler has run yet.</p>`
  : html`<table class="results"><thead><tr><th>handler</th><th>outcome</th><th>runs</th><th>at</th><th>error</th></tr></thead>
<tbody>${results.map(([name, r]) => html`<tr><td>${name}</td><td>${r.ok ? html`<span class="ok">ok</span>` : html`<span class="bad">failed</span>`}</td><td>${r.runs}</td>
<td>${when(new Date(r.at), now)}</td><td><pre class="error">${r.error ?? ''}</pre></td></tr>`)}</tbody></table>`}
</section>
<section>
<details open><summary>Payload (${Buffer.byteLength(payload)} bytes)</summary><pre class="payload">${payload}</pre></details>
</section>
</div>`;
}
