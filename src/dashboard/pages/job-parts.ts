/**
 * The parts of a page that show a job: its progress bar and its history records. The bar is a `<progress>`
 * element (accessible, styled by the browser) that the page's script moves as it polls; without a known size it
 * is indeterminate and the text says how far the job got.
 */
import { html } from 'hono/html';
import type { HistoryRecord } from '../../admin/admin.ts';
import type { Progress } from '../../types.ts';
import { when, type Html } from './layout.ts';

/** A progress report in words: `12 of 50 (24%): step 12`, `1200 done`, or `no progress reported yet`. */
export function progressText(p: Progress | null): string {
  if (!p) return 'no progress reported yet';
  const amount = p.size != null ? `${p.done} of ${p.size}${p.percent != null ? ` (${p.percent}%)` : ''}` : `${p.done} done`;
  return p.message ? `${amount}: ${p.message}` : amount;
}

/**
 * A job's progress bar, with `data-progress-of` naming the item so the script can move it. `hidden` until the job
 * reports progress (the script shows it then).
 */
export function progressBar(itemId: number, p: Progress | null): Html {
  return html`<div class="progress" data-progress-of="${itemId}"${p ? '' : html` hidden`}>
<progress max="100"${p?.percent != null ? html` value="${p.percent}"` : ''} aria-label="progress of item ${itemId}"></progress>
<span class="progress-text">${progressText(p)}</span>
</div>`;
}

/** A job's history records as a table (every value escaped: a subject or comment is the job's own text). */
export function historyTable(records: HistoryRecord[], now = Date.now()): Html {
  if (records.length === 0) return html`<p class="muted">No history records.</p>`;
  return html`<table class="history"><thead><tr><th>at</th><th>handler</th><th>subject</th><th>status</th><th>comment</th></tr></thead>
<tbody>${records.map((r) => html`<tr><td>${when(r.at, now)}</td><td>${r.handler}</td><td>${r.subject ?? ''}</td><td>${r.status ?? ''}</td><td><pre>${r.comment}</pre></td></tr>`)}</tbody></table>`;
}
