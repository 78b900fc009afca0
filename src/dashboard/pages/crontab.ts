/**
 * The crontab page: the global switch, and every cron with its expression in words, time zone, item type, next
 * run, last status and latest runs (OK, WARN, FAILURE, NOTRUN, RUNNING, each linking to the item it enqueued),
 * with enable and disable buttons (POST forms with the CSRF token). A read-only token or a read-only crontab
 * shows no buttons and says why; the server refuses their POSTs all the same.
 */
import { html } from 'hono/html';
import type { CronRunStatus } from '../../schedules/log-status.ts';
import type { Role } from '../security.ts';
import type { CrontabView } from '../crontab.ts';
import { csrfField, when, type Html } from './layout.ts';

function runStatus(status: CronRunStatus): Html {
  return html`<span class="cron-${status}">${status}</span>`;
}

export function crontabPage(v: CrontabView, role: Role, csrf: string | undefined): Html {
  const now = Date.now();
  const canAct = role === 'admin' && !v.readOnly;
  const why = role !== 'admin' ? 'read-only: this token cannot change the crontab' : v.readOnly ? 'the crontab is read-only on this host (SIGNALQ_CRONTAB_READONLY=1): change the app\'s crontab file and import it where it is not read-only' : '';
  return html`<h1>Crontab</h1>
<section class="switch">
<p>The crontab is <strong id="crontab-switch" class="${v.enabled ? 'ok' : 'bad'}">${v.enabled ? 'on' : 'off'}</strong>${v.enabled ? '' : html`: no cron runs until it is turned on`}.
${canAct ? html`<form method="post" action="/crontab/${v.enabled ? 'off' : 'on'}" class="inline">${csrfField(csrf)}<button type="submit"${v.enabled ? html` class="danger"` : ''}>Turn the crontab ${v.enabled ? 'off' : 'on'}</button></form>` : ''}</p>
${why ? html`<p class="muted" id="crontab-readonly">${why}.</p>` : ''}
</section>
${v.crons.length === 0
  ? html`<p class="muted">No crons. Add them with <code>signalq cron add</code> or <code>signalq cron import</code>.</p>`
  : html`<table class="crontab"><thead><tr><th>name</th><th>schedule</th><th>type</th><th>state</th><th>next run</th><th>last runs (newest first)</th><th></th></tr></thead>
<tbody>${v.crons.map((c) => html`<tr data-cron="${c.name}"${c.activated ? '' : html` class="disabled"`}>
<td>${c.name}</td>
<td><code>${c.expression}</code><div class="muted">${c.description}</div></td>
<td>${c.type}${c.noHandler ? html` <div class="warn">no live worker takes this type</div>` : ''}</td>
<td class="cron-state">${c.activated ? 'enabled' : 'disabled'}</td>
<td>${c.activated && v.enabled ? when(c.nextRunAt, now) : html`<span class="muted">none while ${c.activated ? 'the crontab is off' : 'disabled'}</span>`}</td>
<td>${c.runs.length === 0 ? html`<span class="muted">no runs yet</span>` : html`<ul class="runs">${c.runs.map((r) => html`<li>${runStatus(r.status)} ${when(r.scheduledAt, now)}${r.itemId ? html` <a href="/items/${r.itemId}">item ${r.itemId}</a>` : ''}${r.message ? html` <span class="muted">${r.message}</span>` : ''}</li>`)}</ul>`}</td>
<td>${canAct ? html`<form method="post" action="/crontab/${c.name}/${c.activated ? 'disable' : 'enable'}" class="inline">${csrfField(csrf)}<button type="submit"${c.activated ? html` class="danger"` : ''}>${c.activated ? 'Disable' : 'Enable'}</button></form>` : ''}</td>
</tr>`)}</tbody></table>`}`;
}
