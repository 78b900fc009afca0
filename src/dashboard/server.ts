/**
 * The operator dashboard: a Hono app over a queue's `admin`, `crontab` and `enqueue` (it connects no handlers),
 * and the HTTP server it runs in.
 * This file holds the security every request passes through, in order:
 *
 * 1. response headers that keep the page from running anything but its own script (CSP) or being framed;
 * 2. on an open dashboard (no token, loopback only), a `Host` that names this machine (no DNS rebinding);
 * 3. who is asking: `Authorization: Bearer <token>`, else the session cookie set by the login, else (open
 *    dashboard) anyone, with a session made on the first page so that its forms carry a CSRF token;
 * 4. for a POST (every state change is one): a role that may act (a read-only token gets 403) and, unless it came
 *    with a bearer token (which a browser never adds on its own), an `Origin` of this dashboard and the session's
 *    CSRF token, in the form (`_csrf`) or the `X-CSRF-Token` header.
 *
 * Errors never show a stack: a `UsageError` is a 400, a missing item a 404, anything else a 500 with one line.
 */
import { Hono, type Context } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { bodyLimit } from 'hono/body-limit';
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Admin } from '../admin/admin.ts';
import type { CrontabAdmin } from '../schedules/admin.ts';
import type { EnqueueResult } from '../queue/queue.ts';
import { UsageError, messageOf } from '../errors.ts';
import { OverviewCache } from './overview-cache.ts';
import { NotFoundError } from './params.ts';
import {
  SESSION_MS, SessionStore, bearerToken, checkBind, isLoopbackHostHeader, isSameOrigin, isSessionCsrf, roleOfToken,
  type DashboardTokens, type Role, type Session,
} from './security.ts';
import { apiRoutes } from './api.ts';
import { pageRoutes } from './pages/routes.ts';
import { CLIENT_SCRIPT, STYLESHEET } from './assets.ts';
import { errorPage, loginPage } from './pages/layout.ts';

/** What every route of the dashboard may read about the request. */
export type DashboardEnv = {
  Variables: {
    role: Role;
    /** The browser's session (absent for bearer-token requests). */
    session?: Session;
    deps: DashboardDeps;
  };
};

/** What the dashboard reads and acts through: a `Queue` (it connects no handlers to it). */
export interface DashboardQueue {
  readonly admin: Admin;
  readonly crontab: CrontabAdmin;
  /** Starts a job from the jobs page: the payload is checked against the type's declared parameters. */
  enqueue(type: string, payload: unknown, options: { invoker?: string }): Promise<EnqueueResult>;
}

/** What the routes read and act through. */
export interface DashboardDeps {
  admin: Admin;
  queue: DashboardQueue;
  overview: OverviewCache;
  /** Whether a login is needed (a token is set): the page then offers to log out. */
  tokens: boolean;
}

/** Options of `createDashboardApp` and `startDashboard`. */
export interface DashboardOptions extends DashboardTokens {
  /** How long the overview's counts are reused between reads, in ms (default 2000; 0 reads them on every request). */
  overviewMaxAgeMs?: number;
  /** Called with each unexpected error (a 500); the CLI prints it. Default: nothing. */
  onError?: (err: unknown) => void;
}

export const SESSION_COOKIE = 'signalq_session';
/** The largest request body accepted. */
export const MAX_BODY_BYTES = 64 * 1024;
const CSRF_FIELD = '_csrf';

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** Answers with a refusal: JSON under /api, a page elsewhere. */
export function refuse(c: Context, status: 400 | 401 | 403 | 404 | 413 | 500, message: string): Response | Promise<Response> {
  if (c.req.path.startsWith('/api/') || c.req.path === '/api') return c.json({ error: message }, status);
  return c.html(status === 401 ? loginPage(message) : errorPage(status, message), status);
}

/** The dashboard's Hono app, over `queue`. */
export function createDashboardApp(queue: DashboardQueue, options: DashboardOptions = {}): Hono<DashboardEnv> & { overview: OverviewCache } {
  const tokens: DashboardTokens = { token: options.token || undefined, readonlyToken: options.readonlyToken || undefined };
  const open = !tokens.token;
  const sessions = new SessionStore();
  const admin = queue.admin;
  const deps: DashboardDeps = { admin, queue, overview: new OverviewCache(admin, options.overviewMaxAgeMs ?? 2_000), tokens: !open };
  const app = new Hono<DashboardEnv>();

  app.onError((err, c) => {
    if (err instanceof UsageError) return refuse(c, 400, err.message);
    if (err instanceof NotFoundError) return refuse(c, 404, err.message);
    options.onError?.(err);
    return refuse(c, 500, `internal error: ${messageOf(err).split('\n')[0]}`);
  });
  app.notFound((c) => refuse(c, 404, `no page at ${c.req.path}`));

  app.use('*', async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
  });

  // Static assets: the same for everyone, no secrets.
  app.get('/assets/dashboard.js', (c) => c.body(CLIENT_SCRIPT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }));
  app.get('/assets/dashboard.css', (c) => c.body(STYLESHEET, 200, { 'Content-Type': 'text/css; charset=utf-8' }));

  // No form or API call of the dashboard carries more than a token, an id or a job's few parameters.
  app.use('*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => refuse(c, 413, `the request body is over ${MAX_BODY_BYTES} bytes; the dashboard takes forms of a few fields`) }));

  app.use('*', async (c, next) => {
    c.set('deps', deps);
    if (open && !isLoopbackHostHeader(c.req.header('host'))) {
      return refuse(c, 403, `this dashboard answers only to localhost or 127.0.0.1 (it has no token); the request named ${JSON.stringify(c.req.header('host') ?? '')}`);
    }
    const presented = bearerToken(c.req.header('authorization'));
    if (presented !== undefined) {
      const role = roleOfToken(presented, tokens);
      if (!role) return refuse(c, 401, 'the bearer token is not a dashboard token');
      c.set('role', role);
      return next(); // no CSRF check: a browser never adds this header to a forged request on its own
    }
    const sessionId = getCookie(c, SESSION_COOKIE);
    let session = sessions.get(sessionId);
    if (!session && open && c.req.method === 'GET' && !c.req.path.startsWith('/api/')) {
      const made = sessions.create('admin');
      session = made.session;
      setSessionCookie(c, made.id);
    }
    if (c.req.path === '/login' || c.req.path === '/logout') return next();
    if (!session) {
      if (!open) return refuse(c, 401, 'log in with the dashboard token (or send Authorization: Bearer <token>)');
      if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
        return refuse(c, 403, 'no session: open the dashboard page first (its forms carry the CSRF token)');
      }
      c.set('role', 'admin'); // an open dashboard: anyone on this machine may look
      return next();
    }
    c.set('role', session.role);
    c.set('session', session);
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      if (!isSameOrigin(c.req.header('origin'), c.req.header('host'), c.req.header('sec-fetch-site'))) {
        return refuse(c, 403, 'cross-site request refused: its Origin is not this dashboard');
      }
      if (!isSessionCsrf(await csrfOf(c), session)) return refuse(c, 403, 'missing or wrong CSRF token; reload the page and try again');
    }
    return next();
  });

  // Every state change needs a role that may act.
  app.post('*', async (c, next) => {
    if (c.req.path === '/login' || c.req.path === '/logout') return next();
    if (c.get('role') !== 'admin') return refuse(c, 403, 'this token is read-only: it can look but not act');
    return next();
  });

  app.get('/login', (c) => c.html(loginPage(open ? 'this dashboard has no token: nothing to log in to' : undefined)));
  app.post('/login', async (c) => {
    if (open) return c.redirect('/', 303);
    if (!isSameOrigin(c.req.header('origin'), c.req.header('host'), c.req.header('sec-fetch-site'))) {
      return refuse(c, 403, 'cross-site login refused: its Origin is not this dashboard');
    }
    const body = await c.req.parseBody();
    const role = typeof body.token === 'string' ? roleOfToken(body.token, tokens) : null;
    if (!role) return c.html(loginPage('that is not a dashboard token'), 401);
    sessions.delete(getCookie(c, SESSION_COOKIE));
    setSessionCookie(c, sessions.create(role).id);
    return c.redirect('/', 303);
  });
  app.post('/logout', async (c) => {
    const id = getCookie(c, SESSION_COOKIE);
    const session = sessions.get(id);
    if (session && !isSessionCsrf(await csrfOf(c), session)) return refuse(c, 403, 'missing or wrong CSRF token; reload the page and try again');
    sessions.delete(id);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect(open ? '/' : '/login', 303);
  });

  app.route('/api', apiRoutes());
  app.route('/', pageRoutes());
  return Object.assign(app, { overview: deps.overview });
}

function setSessionCookie(c: Context, id: string): void {
  setCookie(c, SESSION_COOKIE, id, {
    httpOnly: true,
    sameSite: 'Strict',
    path: '/',
    secure: new URL(c.req.url).protocol === 'https:',
    maxAge: Math.floor(SESSION_MS / 1000),
  });
}

/** The CSRF token a request carries: the `X-CSRF-Token` header, else the form's `_csrf` field. */
async function csrfOf(c: Context): Promise<string | undefined> {
  const header = c.req.header('x-csrf-token');
  if (header) return header;
  const type = c.req.header('content-type') ?? '';
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return undefined;
  const body = await c.req.parseBody();
  return typeof body[CSRF_FIELD] === 'string' ? body[CSRF_FIELD] : undefined;
}

/** A running dashboard. */
export interface RunningDashboard {
  /** Where it answers, e.g. `http://127.0.0.1:8080/`. */
  url: string;
  port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/**
 * Starts the dashboard on `host:port` (defaults 127.0.0.1 and 8080; port 0 picks a free one). Refuses, before
 * listening, a non-loopback host without `token` (see `checkBind`), and says so when the port is taken.
 */
export async function startDashboard(
  queue: DashboardQueue,
  { host = '127.0.0.1', port = 8080, ...options }: DashboardOptions & { host?: string; port?: number } = {},
): Promise<RunningDashboard> {
  checkBind(host, options);
  const app = createDashboardApp(queue, options);
  app.overview.prime();
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new UsageError(`port ${port} on ${host} is already in use; pick another with --port`));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') reject(new UsageError(`cannot listen on ${host}: no such address on this machine; use --host 127.0.0.1 or one of its addresses`));
      else reject(err);
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}/`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        (server as any).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
