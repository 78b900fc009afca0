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

/**
 * A job's history records as a table (every value escaped: a subject or comment is the job's own text). With
 * `live`, the body carries the last record's id, and the script appends the records written after it.
 */
export function historyTable(records: HistoryRecord[], live: boolean, now = Date.now()): Html {
  const after = records.length ? records[records.length - 1].id : 0;
  return html`<table class="history"${records.length ? '' : html` hidden`}><thead><tr><th>at</th><th>handler</th><th>subject</th><th>status</th><th>comment</th></tr></thead>
<tbody id="history-body"${live ? html` data-after="${after}"` : ''}>${records.map((r) => html`<tr><td>${when(r.at, now)}</td><td>${r.handler}</td><td>${r.subject ?? ''}</td><td>${r.status ?? ''}</td><td><pre>${r.comment}</pre></td></tr>`)}</tbody></table>
${records.length ? '' : html`<p class="muted" id="history-empty">No history records.</p>`}`;
}
