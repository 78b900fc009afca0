/**
 * The frame every page shares, and the small pieces pages are built of. Every value goes through hono's `html`
 * tag, which escapes it: nothing from the database reaches the page as markup. The page runs one script of its
 * own (`/assets/dashboard.js`, no inline script: the CSP forbids any other).
 */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { ItemStatus } from '../../types.ts';
import type { Role } from '../security.ts';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** What the frame shows besides the page: who is looking, their CSRF token, the outcome of their last action. */
export interface Frame {
  title: string;
  /** The nav entry to mark as current. */
  nav: 'overview' | 'items' | 'workers' | 'jobs' | 'crontab' | 'none';
  role: Role;
  csrf: string | undefined;
  /** Offer to log out (a token is set). */
  loggedIn: boolean;
  flash?: { ok: boolean; message: string };
}

const NAV: [Frame['nav'], string, string][] = [
  ['overview', '/', 'Overview'],
  ['items', '/items', 'Items'],
  ['jobs', '/jobs', 'Jobs'],
  ['workers', '/workers', 'Workers'],
  ['crontab', '/crontab', 'Crontab'],
];

export function page(f: Frame, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${f.csrf ?? ''}">
<title>${f.title} · signalq</title>
<link rel="stylesheet" href="/assets/dashboard.css">
<script src="/assets/dashboard.js" defer></script>
</head>
<body>
<header>
  <strong class="brand">signalq</strong>
  <nav>${NAV.map(([key, href, label]) => html`<a href="${href}"${key === f.nav ? html` aria-current="page"` : ''}>${label}</a>`)}</nav>
  <span class="who">${f.role === 'readonly' ? 'read-only' : ''}</span>
  ${f.loggedIn ? html`<form method="post" action="/logout" class="inline">${csrfField(f.csrf)}<button type="submit">Log out</button></form>` : ''}
</header>
<main>
${f.flash ? html`<p class="flash ${f.flash.ok ? 'ok' : 'bad'}" role="status" id="outcome">${f.flash.message}</p>` : ''}
${body}
</main>
</body>
</html>`;
}

/** The hidden CSRF field every form carries. */
export function csrfField(csrf: string | undefined): Html {
  return html`<input type="hidden" name="_csrf" value="${csrf ?? ''}">`;
}

/** A status as a coloured label. */
export function statusBadge(status: ItemStatus | string): Html {
  return html`<span class="status s-${status}" data-status-badge>${status}</span>`;
}

/** A time, readable, with its exact value in `datetime` (UTC). */
export function when(d: Date | null | undefined, now = Date.now()): Html {
  if (!d || Number.isNaN(d.getTime())) return html`<span class="muted">–</span>`;
  return html`<time datetime="${d.toISOString()}" title="${d.toISOString()}">${d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} <span class="muted">(${relative(d.getTime() - now)})</span></time>`;
}

/** A time difference in words: `in 3 s`, `5 min ago`. */
export function relative(deltaMs: number): string {
  const a = Math.abs(deltaMs);
  const text = a < 1_000 ? 'now' : a < 60_000 ? `${Math.round(a / 1000)} s` : a < 3_600_000 ? `${Math.round(a / 60_000)} min` : a < 172_800_000 ? `${Math.round(a / 3_600_000)} h` : `${Math.round(a / 86_400_000)} d`;
  if (text === 'now') return text;
  return deltaMs < 0 ? `${text} ago` : `in ${text}`;
}

/** A page that only says what went wrong. */
export function errorPage(status: number, message: string): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${status} · signalq</title><link rel="stylesheet" href="/assets/dashboard.css"></head>
<body><header><strong class="brand">signalq</strong><nav><a href="/">Overview</a><a href="/items">Items</a></nav></header>
<main><h1>${status === 404 ? 'Not found' : status === 400 ? 'Bad request' : status === 403 ? 'Refused' : 'Error'}</h1><p class="flash bad" role="alert">${message}</p></main></body></html>`;
}

/** The login form (a token, posted once; the session cookie carries it from then on). */
export function loginPage(message?: string): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in · signalq</title><link rel="stylesheet" href="/assets/dashboard.css"></head>
<body><header><strong class="brand">signalq</strong></header>
<main><h1>Log in</h1>
${message ? html`<p class="flash bad" role="alert">${message}</p>` : ''}
<form method="post" action="/login" class="login">
<label>Dashboard token <input type="password" name="token" autocomplete="current-password" required></label>
<button type="submit">Log in</button>
</form>
<p class="muted">The token is SIGNALQ_DASHBOARD_TOKEN (acts) or SIGNALQ_DASHBOARD_READONLY_TOKEN (only looks) of the process serving this page.</p>
</main></body></html>`;
}
