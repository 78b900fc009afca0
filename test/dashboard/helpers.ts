/**
 * A dashboard over a test's queue on a free port, closed after the test, and a browser-like session of it (the
 * cookie and CSRF token a page load gives) for requests made with fetch.
 */
import { afterEach } from 'vitest';
import type { Queue } from '../../src/queue/queue.ts';
import { startDashboard, type DashboardOptions, type RunningDashboard } from '../../src/dashboard/server.ts';

const running: RunningDashboard[] = [];

afterEach(async () => {
  for (const d of running.splice(0)) await d.close();
});

/** A dashboard over `queue.admin` on 127.0.0.1 (or `host`) and a free port; counts are read on every request. */
export async function dashboardOf(queue: Queue<any>, options: DashboardOptions & { host?: string } = {}): Promise<RunningDashboard & { base: string }> {
  const d = await startDashboard(queue, { port: 0, overviewMaxAgeMs: 0, ...options });
  running.push(d);
  return { ...d, base: `http://127.0.0.1:${d.port}` };
}

/** What a browser holds after loading a page: the session cookie and the page's CSRF token. */
export interface BrowserSession {
  cookie: string;
  csrf: string;
}

/** Loads `path` as a browser would (with `init`'s headers, e.g. a login cookie) and keeps the session it gets. */
export async function pageSession(base: string, cookie?: string, path = '/'): Promise<BrowserSession> {
  const res = await fetch(base + path, { headers: cookie ? { cookie } : {} });
  const html = await res.text();
  const set = res.headers.get('set-cookie');
  const got = set ? set.split(';')[0] : cookie;
  const csrf = /<meta name="csrf-token" content="([^"]*)">/.exec(html)?.[1];
  if (!got || !csrf) throw new Error(`no session from ${path}: status ${res.status}, set-cookie ${set}`);
  return { cookie: got, csrf };
}

/** Logs in with a token through the login form and returns the session. */
export async function login(base: string, token: string): Promise<BrowserSession> {
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
    body: new URLSearchParams({ token }),
  });
  if (res.status !== 303) throw new Error(`login answered ${res.status}: ${await res.text()}`);
  return pageSession(base, res.headers.get('set-cookie')!.split(';')[0]);
}

/** Posts a dashboard form as its page would (same origin, the session's cookie and CSRF token). */
export function postForm(base: string, path: string, s: BrowserSession, overrides: { origin?: string | null; csrf?: string | null } = {}): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', cookie: s.cookie };
  const origin = overrides.origin === undefined ? base : overrides.origin;
  if (origin !== null) headers.origin = origin;
  const csrf = overrides.csrf === undefined ? s.csrf : overrides.csrf;
  return fetch(base + path, { method: 'POST', redirect: 'manual', headers, body: new URLSearchParams(csrf === null ? {} : { _csrf: csrf }) });
}

/** Waits until `check` holds, reading again every 50 ms (the test's timeout is the limit, not a timed assertion). */
export async function until<T>(read: () => Promise<T>, check: (v: T) => boolean): Promise<T> {
  for (;;) {
    const v = await read();
    if (check(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}
