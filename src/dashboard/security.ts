/**
 * The dashboard's security decisions, each a pure function or a small store: where it may listen without a token,
 * who a request is (a bearer token, a session cookie, or anyone on an open loopback dashboard), whether a
 * state-changing request comes from the dashboard's own page, and the sessions that carry the login and the
 * per-session CSRF token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { UsageError } from '../errors.ts';

/** What a request may do: `admin` looks and acts, `readonly` only looks. */
export type Role = 'admin' | 'readonly';

/** The tokens the dashboard accepts. With neither, it is open to anyone who can reach it (loopback only). */
export interface DashboardTokens {
  /** Full access (`SIGNALQ_DASHBOARD_TOKEN`). */
  token?: string;
  /** Look but not act (`SIGNALQ_DASHBOARD_READONLY_TOKEN`). */
  readonlyToken?: string;
}

/** The shortest token accepted: a guessable one would make the bind check a formality. */
export const MIN_TOKEN_LENGTH = 16;

/** True for an address only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Refuses, before anything listens, a dashboard that anyone else could reach without a token, and tokens too short
 * to keep anyone out. Names the value and what to do.
 */
export function checkBind(host: string, tokens: DashboardTokens): void {
  for (const [name, value] of [['SIGNALQ_DASHBOARD_TOKEN', tokens.token], ['SIGNALQ_DASHBOARD_READONLY_TOKEN', tokens.readonlyToken]] as const) {
    if (value !== undefined && value.length < MIN_TOKEN_LENGTH) {
      throw new UsageError(`${name} is ${value.length} characters long; use at least ${MIN_TOKEN_LENGTH} random characters (e.g. openssl rand -hex 24)`);
    }
  }
  if (tokens.token && tokens.readonlyToken && tokens.token === tokens.readonlyToken) {
    throw new UsageError('SIGNALQ_DASHBOARD_READONLY_TOKEN is the same as SIGNALQ_DASHBOARD_TOKEN; give the read-only token a value of its own');
  }
  if (!isLoopbackHost(host) && !tokens.token) {
    throw new UsageError(
      `the dashboard would listen on ${host}, reachable from other machines, without a token; set SIGNALQ_DASHBOARD_TOKEN (at least ${MIN_TOKEN_LENGTH} random characters) or use --host 127.0.0.1`,
    );
  }
  if (tokens.readonlyToken && !tokens.token) {
    throw new UsageError('SIGNALQ_DASHBOARD_READONLY_TOKEN is set without SIGNALQ_DASHBOARD_TOKEN; set both, or neither on a loopback dashboard');
  }
}

/** Compares secrets in constant time (digests first, so different lengths take the same path). */
function sameSecret(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

/** The role a presented token grants, or null for a wrong one. */
export function roleOfToken(presented: string, tokens: DashboardTokens): Role | null {
  if (tokens.token && sameSecret(presented, tokens.token)) return 'admin';
  if (tokens.readonlyToken && sameSecret(presented, tokens.readonlyToken)) return 'readonly';
  return null;
}

/** The token of an `Authorization: Bearer …` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

/**
 * Whether a state-changing request comes from a page of this dashboard: its `Origin` names the host the request
 * was sent to. Without an `Origin` (some browsers leave it out on same-origin requests), a `Sec-Fetch-Site:
 * same-origin` stands in; with neither, it is refused.
 */
export function isSameOrigin(origin: string | undefined, host: string | undefined, secFetchSite: string | undefined): boolean {
  if (!host) return false;
  if (origin !== undefined && origin !== 'null') {
    try {
      const u = new URL(origin);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.host.toLowerCase() === host.toLowerCase();
    } catch {
      return false;
    }
  }
  return secFetchSite === 'same-origin';
}

/**
 * On an open dashboard (no token), whether the request's `Host` names this machine. Refusing other names stops
 * DNS rebinding: a web page whose own name was made to point at 127.0.0.1 reads the dashboard as same-origin.
 */
export function isLoopbackHostHeader(hostHeader: string | undefined): boolean {
  if (!hostHeader) return false;
  const host = hostHeader.replace(/:\d+$/, '');
  return isLoopbackHost(host);
}

/** One browser's session: who it is, its CSRF token, and the outcome of its last action (shown once). */
export interface Session {
  role: Role;
  csrf: string;
  expiresAt: number;
  flash?: { ok: boolean; message: string };
}

/** How long a session lasts. */
export const SESSION_MS = 12 * 60 * 60_000;

/**
 * Sessions in memory, by a random id kept in an HttpOnly cookie: a restart logs everyone out, which a dashboard
 * can afford. Bounded: past `max` sessions the oldest go.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly max = 10_000, private readonly now: () => number = Date.now) {}

  /** A new session with its own CSRF token; returns its id. */
  create(role: Role): { id: string; session: Session } {
    for (const [id, s] of this.sessions) {
      if (this.sessions.size < this.max && s.expiresAt > this.now()) break;
      this.sessions.delete(id);
    }
    const id = randomBytes(32).toString('base64url');
    const session: Session = { role, csrf: randomBytes(24).toString('base64url'), expiresAt: this.now() + SESSION_MS };
    this.sessions.set(id, session);
    return { id, session };
  }

  /** The live session of an id, or undefined. */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  delete(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }
}

/** Whether a presented CSRF token is the session's (constant time). */
export function isSessionCsrf(presented: string | undefined, session: Session | undefined): boolean {
  return !!presented && !!session && sameSecret(presented, session.csrf);
}
