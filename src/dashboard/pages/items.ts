/**
 * The items page: a filter by status, type, invoker and scope, a page of items newest first, and a link to the next page by keyset
 * (`before` = the last id shown), so every page costs the same whatever the table's size.
 */
import { html } from 'hono/html';
import { ITEM_STATUSES } from '../../types.ts';
import type { ItemsQuery } from '../params.ts';
import type { ItemsPage } from '../views.ts';
import { statusBadge, when, type Html } from './layout.ts';

/** The query string of a filter (and cursor), empty values left out. */
export function itemsHref(q: Partial<ItemsQuery>): string {
  const p = new URLSearchParams();
  if (q.status) p.set('status', q.status);
  if (q.type) p.set('type', q.type);
  if (q.invoker) p.set('invoker', q.invoker);
  if (q.scope) p.set('scope', q.scope);
  if (q.beforeId) p.set('before', String(q.beforeId));
  if (q.limit && q.limit !== 50) p.set('limit', String(q.limit));
  const s = p.toString();
  return s ? `/items?${s}` : '/items';
}

export function itemsPage(q: ItemsQuery, p: ItemsPage): Html {
  const now = Date.now();
  return html`<h1>Items</h1>
<p class="muted">${q.status ? 'Most recently finished first, then newest' : 'Newest first'}.</p>
<form method="get" action="/items" class="filter">
<label>Status <select name="status"><option value="">any</option>${ITEM_STATUSES.map((s) => html`<option${s === q.status ? html` selected` : ''}>${s}</option>`)}</select></label>
<label>Type <input name="type" value="${q.type ?? ''}" placeholder="any" maxlength="50"></label>
<label>Invoker <input name="invoker" value="${q.invoker ?? ''}" placeholder="any" maxlength="191"></label>
<label>Scope <input name="scope" value="${q.scope ?? ''}" placeholder="any" maxlength="191"></label>
<button type="submit">Filter</button>
${q.status || q.type || q.invoker || q.scope ? html`<a href="/items">clear</a>` : ''}
</form>
${p.items.length === 0
  ? html`<p class="muted">No items${q.beforeId ? ' before this one' : ''} match.</p>`
  : html`<table class="items"><thead><tr><th>id</th><th>type</th><th>status</th><th>trials</th><th>created</th><th>finished</th><th>invoker</th><th>scope</th><th>failing handlers</th></tr></thead>
<tbody>${p.items.map((i) => html`<tr>
<td><a href="/items/${i.id}">${i.id}</a></td><td>${i.type}</td><td>${statusBadge(i.status)}</td><td>${i.trials}/${i.maxTrials}</td>
<td>${when(i.createdAt, now)}</td><td>${when(i.finishedAt, now)}</td><td>${i.invoker ?? ''}</td><td>${i.scope ?? ''}</td><td>${i.failing.join(', ')}</td></tr>`)}</tbody></table>`}
<p class="pager">
${q.beforeId ? html`<a href="${itemsHref({ ...q, beforeId: undefined })}">« newest</a>` : ''}
${p.next ? html`<a href="${itemsHref({ ...q, beforeId: p.next })}" rel="next">older »</a>` : ''}
</p>`;
}
