/**
 * The jobs page: the running jobs (items in progress) with their progress bars, which the script moves as it
 * polls `/api/jobs`, and a start form per job type the live workers take, generated from its declared parameters
 * (see `job-form.ts`). A refused start shows the page again with the values entered and the message.
 */
import { html } from 'hono/html';
import type { JobType } from '../../jobs/declarations.ts';
import type { Role } from '../security.ts';
import type { RunningJob } from '../views.ts';
import { fieldName, formFields, type FormField } from '../job-form.ts';
import { csrfField, when, type Html } from './layout.ts';
import { progressBar } from './job-parts.ts';

/** What a refused start form held, to show it again. */
export interface Refill {
  type: string;
  form: Record<string, unknown>;
}

function input(f: FormField, id: string, refill: Record<string, unknown> | undefined): Html {
  const posted = refill?.[fieldName(f.name)];
  const value = refill ? (typeof posted === 'string' ? posted : '') : f.value;
  const name = fieldName(f.name);
  const req = f.required ? html` required` : '';
  switch (f.kind) {
    case 'checkbox': {
      const checked = refill ? posted !== undefined : f.value === 'true';
      return html`<input type="checkbox" id="${id}" name="${name}" value="true"${checked ? html` checked` : ''}>`;
    }
    case 'integer':
    case 'number':
      // No min, max or step: the bounds are checked by enqueue, whose message names them as the CLI's does (the
      // browser's own check would stop the form with a message of its own).
      return html`<input type="number" step="any" id="${id}" name="${name}" value="${value}"${req}>`;
    case 'select':
      return html`<select id="${id}" name="${name}"${req}>${f.required ? html`<option value="">choose…</option>` : ''}${f.choices.map((c) => html`<option${c === value ? html` selected` : ''}>${c}</option>`)}</select>`;
    case 'json':
      return html`<textarea id="${id}" name="${name}" rows="2" cols="40"${req} placeholder="JSON">${value}</textarea>`;
    default:
      return html`<input type="text" id="${id}" name="${name}" value="${value}"${req}>`;
  }
}

function kindHint(f: FormField): string {
  const bounds = f.min !== null && f.max !== null ? ` from ${f.min} to ${f.max}` : f.min !== null ? ` ≥ ${f.min}` : f.max !== null ? ` ≤ ${f.max}` : '';
  return f.kind === 'integer' ? `whole number${bounds}` : f.kind === 'number' ? `number${bounds}` : f.kind === 'json' ? 'JSON' : '';
}

function startForm(t: JobType, csrf: string | undefined, refill: Refill | undefined): Html {
  // A type whose handlers declare different parameters gets the first one's form; enqueue checks against all.
  const schema = t.params[0] as Record<string, any> | undefined;
  const fields = formFields(schema);
  const again = refill?.type === t.type ? refill.form : undefined;
  const slug = t.type.replace(/[^\w-]/g, '_');
  return html`<form method="post" action="/jobs" class="job" id="start-${slug}" data-type="${t.type}">
${csrfField(csrf)}<input type="hidden" name="type" value="${t.type}">
<h3>${t.type}${t.live ? '' : html` <span class="warn">no live worker takes this type: it waits until one does</span>`}</h3>
${t.help ? html`<p class="muted">${t.help}</p>` : ''}
${fields.length === 0 ? html`<p class="muted">No declared parameters: it starts with an empty payload.</p>` : ''}
${fields.map((f) => {
  const id = `f-${slug}-${f.name.replace(/[^\w-]/g, '_')}`;
  return html`<div class="field"><label for="${id}">${f.name}${f.required ? html` <span class="required" title="required">*</span>` : ''}</label>
${input(f, id, again)}${kindHint(f) || f.help ? html`<span class="help">${[kindHint(f), f.help].filter(Boolean).join(': ')}</span>` : ''}</div>`;
})}
<button type="submit">Start ${t.type}</button>
</form>`;
}

export function jobsPage(running: RunningJob[], types: JobType[], role: Role, csrf: string | undefined, refill?: Refill): Html {
  const now = Date.now();
  return html`<h1>Jobs</h1>
<div data-poll="jobs">
<section>
<h2>Running</h2>
<table class="running"><thead><tr><th>id</th><th>type</th><th>invoker</th><th>started</th><th>progress</th></tr></thead>
<tbody id="running-body" data-key="${running.map((j) => `${j.id}${j.cancelRequested ? 'c' : ''}`).join(',')}">${running.map((j) => html`<tr data-job="${j.id}">
<td><a href="/items/${j.id}">${j.id}</a></td><td>${j.type}${j.cancelRequested ? html`<span class="warn"> cancel requested</span>` : ''}</td><td>${j.invoker ?? ''}</td>
<td>${j.startedAt ? when(j.startedAt, now) : 'waiting for a slot'}</td><td>${progressBar(j.id, j.progress)}</td></tr>`)}</tbody></table>
<p class="muted" id="running-empty"${running.length ? html` hidden` : ''}>No job is running.</p>
</section>
</div>
<section>
<h2>Start a job</h2>
${role !== 'admin'
  ? html`<p class="muted">read-only: this token cannot start jobs.</p>`
  : types.length === 0
    ? html`<p class="muted">No job types: no live worker has recorded any handler of a named type.</p>`
    : html`<p class="muted">Fields marked <span class="required">*</span> are required; defaults are filled in. The job is recorded as started by <code>dashboard</code>.</p>
${types.map((t) => startForm(t, csrf, refill))}`}
</section>`;
}
