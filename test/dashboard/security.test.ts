/**
 * The dashboard's security, against a real server on SQLite and MySQL/MariaDB: no token, no dashboard beyond
 * loopback; a token-bound dashboard answers 401 without it; a read-only token looks but cannot act; a forged
 * cross-site POST or one without the session's CSRF token is refused; an open dashboard answers only to loopback
 * names; a payload or error holding markup is shown as text; an unexpected error shows one line, no stack.
 * The pure decisions are tested first, without a server.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { PermanentError, UsageError } from '../../src/errors.ts';
import { checkBind, isLoopbackHost, isSameOrigin, roleOfToken, SessionStore } from '../../src/dashboard/security.ts';
import { startDashboard } from '../../src/dashboard/server.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue } from '../helpers/queue.ts';
import { dashboardOf, login, pageSession, postForm } from './helpers.ts';

const TOKEN = 'admin-token-0123456789abcdef';
const READONLY = 'readonly-token-0123456789abcdef';

describe('dashboard security decisions', () => {
  it('tells loopback addresses from others', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.7', '192.168.1.2', 'example.com', '128.0.0.1', 'localhost.evil.com']) expect(isLoopbackHost(h), h).toBe(false);
  });

  it('refuses a non-loopback bind without a token, short tokens and a read-only token alone, naming what to do', () => {
    expect(() => checkBind('0.0.0.0', {})).toThrow(
      new UsageError('the dashboard would listen on 0.0.0.0, reachable from other machines, without a token; set SIGNALQ_DASHBOARD_TOKEN (at least 16 random characters) or use --host 127.0.0.1'),
    );
    expect(() => checkBind('0.0.0.0', { token: 'short' })).toThrow('SIGNALQ_DASHBOARD_TOKEN is 5 characters long; use at least 16 random characters');
    expect(() => checkBind('127.0.0.1', { readonlyToken: READONLY })).toThrow('SIGNALQ_DASHBOARD_READONLY_TOKEN is set without SIGNALQ_DASHBOARD_TOKEN');
    expect(() => checkBind('0.0.0.0', { token: TOKEN, readonlyToken: TOKEN })).toThrow('give the read-only token a value of its own');
    expect(() => checkBind('127.0.0.1', {})).not.toThrow();
    expect(() => checkBind('0.0.0.0', { token: TOKEN, readonlyToken: READONLY })).not.toThrow();
  });

  it('grants roles by token and accepts only same-origin state changes', () => {
    const tokens = { token: TOKEN, readonlyToken: READONLY };
    expect([roleOfToken(TOKEN, tokens), roleOfToken(READONLY, tokens), roleOfToken(TOKEN + 'x', tokens), roleOfToken('', tokens)]).toEqual(['admin', 'readonly', null, null]);
    expect(isSameOrigin('http://127.0.0.1:8080', '127.0.0.1:8080', undefined)).toBe(true);
    expect(isSameOrigin('https://evil.example', '127.0.0.1:8080', 'cross-site')).toBe(false);
    expect(isSameOrigin('http://127.0.0.1:9999', '127.0.0.1:8080', undefined)).toBe(false);
    expect(isSameOrigin('null', '127.0.0.1:8080', undefined)).toBe(false);
    expect(isSameOrigin(undefined, '127.0.0.1:8080', 'same-origin')).toBe(true);
    expect(isSameOrigin(undefined, '127.0.0.1:8080', undefined)).toBe(false);
  });

  it('forgets expired sessions and keeps at most its bound', () => {
    let now = 0;
    const store = new SessionStore(2, () => now);
    const a = store.create('admin');
    const b = store.create('readonly');
    expect(store.get(a.id)?.role).toBe('admin');
    const c = store.create('admin'); // a third: the oldest goes
    expect([store.get(a.id), store.get(b.id)?.role, store.get(c.id)?.role]).toEqual([undefined, 'readonly', 'admin']);
    now += 13 * 60 * 60_000;
    expect(store.get(b.id)).toBeUndefined();
  });
});

/** A GET with a chosen Host header (fetch does not let one set it). */
function getWithHost(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s) => (body += s)).on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject).end();
  });
}

describe.each(DIALECTS)('dashboard security on %s', (dialect) => {
  it('refuses to start on a non-loopback address without a token, and listens nowhere', async () => {
    const q = await freshQueue(dialect);
    await expect(startDashboard(q, { host: '0.0.0.0', port: 0 })).rejects.toThrow(
      'the dashboard would listen on 0.0.0.0, reachable from other machines, without a token; set SIGNALQ_DASHBOARD_TOKEN',
    );
  });

  it('on a non-loopback bind answers 401 to every request without the token, and serves it with', async () => {
    const q = await freshQueue(dialect);
    const d = await dashboardOf(q, { host: '0.0.0.0', token: TOKEN });
    for (const path of ['/', '/items', '/items/1', '/workers', '/api/overview', '/api/items', '/api/workers']) {
      const res = await fetch(d.base + path);
      expect(res.status, path).toBe(401);
      if (path.startsWith('/api')) expect(await res.json()).toEqual({ error: 'log in with the dashboard token (or send Authorization: Bearer <token>)' });
      else expect(await res.text()).toContain('<input type="password" name="token"');
    }
    expect((await fetch(`${d.base}/api/overview`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    expect((await fetch(`${d.base}/api/items/1/retry`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${d.base}/api/overview`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    const badLogin = await fetch(`${d.base}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: d.base }, body: 'token=nope' });
    expect(badLogin.status).toBe(401);
    const s = await login(d.base, TOKEN);
    expect((await fetch(`${d.base}/api/overview`, { headers: { cookie: s.cookie } })).status).toBe(200);
  });

  it('lets a read-only token look but not retry or delete, by bearer or by login', async () => {
    const q = await freshQueue(dialect);
    q.connect({ name: 'h', types: '*', handle: () => { throw new PermanentError('declined'); } });
    const { id } = await q.enqueue('charge', {});
    await q.process();
    const d = await dashboardOf(q, { token: TOKEN, readonlyToken: READONLY });
    const ro = { authorization: `Bearer ${READONLY}` };
    expect((await fetch(`${d.base}/api/items/${id}`, { headers: ro })).status).toBe(200);
    for (const action of ['retry', 'delete']) {
      const res = await fetch(`${d.base}/api/items/${id}/${action}`, { method: 'POST', headers: ro });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: 'this token is read-only: it can look but not act' });
    }
    const s = await login(d.base, READONLY);
    const page = await (await fetch(`${d.base}/items/${id}`, { headers: { cookie: s.cookie } })).text();
    expect(page).toContain('read-only: no actions');
    expect(page).not.toContain(`action="/items/${id}/retry"`);
    expect((await postForm(d.base, `/items/${id}/retry`, s)).status).toBe(403);
    expect((await q.admin.get(id))?.status).toBe('error');
    // The same with the full token acts.
    const admin = await login(d.base, TOKEN);
    expect((await postForm(d.base, `/items/${id}/retry`, admin)).status).toBe(303);
    expect((await q.admin.get(id))?.status).toBe('pending');
  });

  it('refuses a forged cross-site POST and one without the session CSRF token, and accepts the page own form', async () => {
    const q = await freshQueue(dialect);
    q.connect({ name: 'h', types: '*', handle: () => { throw new PermanentError('declined'); } });
    const { id } = await q.enqueue('charge', {});
    await q.process();
    for (const options of [{}, { token: TOKEN }]) {
      const d = await dashboardOf(q, options);
      const s = options.token ? await login(d.base, TOKEN) : await pageSession(d.base);
      const forged = await postForm(d.base, `/items/${id}/retry`, s, { origin: 'https://evil.example' });
      expect(forged.status).toBe(403);
      expect(await forged.text()).toContain('cross-site request refused: its Origin is not this dashboard');
      expect((await postForm(d.base, `/items/${id}/retry`, s, { origin: null })).status).toBe(403); // no Origin, no Sec-Fetch-Site
      expect((await postForm(d.base, `/items/${id}/retry`, s, { csrf: null })).status).toBe(403);
      expect((await postForm(d.base, `/items/${id}/retry`, s, { csrf: 'x'.repeat(32) })).status).toBe(403);
      // A cross-site form carries no SameSite=Strict cookie: no session.
      const noCookie = await fetch(`${d.base}/items/${id}/retry`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, body: '' });
      expect(noCookie.status).toBe(options.token ? 401 : 403);
      // The JSON API with the session cookie needs the CSRF header too.
      const apiNoCsrf = await fetch(`${d.base}/api/items/${id}/retry`, { method: 'POST', headers: { cookie: s.cookie, origin: d.base } });
      expect(apiNoCsrf.status).toBe(403);
      expect((await q.admin.get(id))?.status).toBe('error');
      const ok = await postForm(d.base, `/items/${id}/retry`, s);
      expect(ok.status).toBe(303);
      expect(ok.headers.get('location')).toBe(`/items/${id}`);
      expect((await q.admin.get(id))?.status).toBe('pending');
      await q.process(); // back to error for the next round
    }
  });

  it('refuses a request body over 64 KiB with 413, before reading it as a form', async () => {
    const q = await freshQueue(dialect);
    const d = await dashboardOf(q, { token: TOKEN });
    const res = await fetch(`${d.base}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: d.base }, body: 'token=' + 'x'.repeat(70_000) });
    expect(res.status).toBe(413);
  });

  it('sets the session cookie HttpOnly and SameSite=Strict, and a CSP that allows only its own script', async () => {
    const q = await freshQueue(dialect);
    const d = await dashboardOf(q);
    const res = await fetch(`${d.base}/`);
    expect(res.headers.get('set-cookie')).toMatch(/^signalq_session=[\w-]{43}; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });

  it('answers an open dashboard only under a loopback name (no DNS rebinding)', async () => {
    const q = await freshQueue(dialect);
    const d = await dashboardOf(q);
    expect((await getWithHost(d.port, '/api/overview', `localhost:${d.port}`)).status).toBe(200);
    const rebound = await getWithHost(d.port, '/api/overview', `attacker.example:${d.port}`);
    expect(rebound).toEqual({ status: 403, body: JSON.stringify({ error: `this dashboard answers only to localhost or 127.0.0.1 (it has no token); the request named "attacker.example:${d.port}"` }) });
  });

  it('shows a payload and an error holding markup as text', async () => {
    const q = await freshQueue(dialect);
    q.connect({ name: 'h', types: '*', handle: () => { throw new PermanentError('<img src=x onerror="alert(2)">'); } });
    const { id } = await q.enqueue('charge', { note: '<script>alert(1)</script>', pic: '<img src=x onerror=alert(3)>' });
    await q.process();
    const d = await dashboardOf(q);
    for (const path of [`/items/${id}`, '/items', '/']) {
      const text = await (await fetch(d.base + path)).text();
      expect(text, path).not.toMatch(/<script>alert|<img /);
    }
    const text = await (await fetch(`${d.base}/items/${id}`)).text();
    expect(text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(text).toContain('&lt;img src=x onerror=&quot;alert(2)&quot;&gt;');
  });

  it('answers an unexpected failure with 500 and one line, never a stack', async () => {
    const q = await freshQueue(dialect);
    const errors: unknown[] = [];
    const d = await dashboardOf(q, { onError: (e) => errors.push(e) });
    await q.knex.destroy(); // every read now fails inside knex
    const res = await fetch(`${d.base}/api/items`);
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: string };
    expect(body.error).toMatch(/^internal error: \S/);
    expect(body.error).not.toContain('\n');
    expect(errors).toHaveLength(1);
    const page = await (await fetch(`${d.base}/items`)).text();
    expect(page).not.toMatch(/\n\s+at /);
  });
});
