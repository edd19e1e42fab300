import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHarness, type Harness, openSse, sessionEvents } from '../../test/e2e/harness.js';
import type { ManualClock } from '../infra/clock.js';
import { createLogger } from '../infra/logger.js';
import { AUTH_COOKIE, cookieValue } from './auth.js';

const TOKEN = 'dash-secret-7f3a9c1e2b';
let h: Harness;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.close();
});

/** a pino logger writing into a string, at trace level so every line is captured */
function capturedLogger() {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger('trace', dest), text: () => lines.join('') };
}

async function tokenHarness(logger?: ReturnType<typeof capturedLogger>['logger']) {
  return createHarness({ http: { dashboardToken: TOKEN, host: '0.0.0.0' }, logger, listen: true });
}

describe('dashboard auth', () => {
  it('without a token configured, everything is open (loopback default)', async () => {
    h = await createHarness();
    expect((await h.app.request('/api/sessions')).status).toBe(200);
    expect((await h.app.request('/login')).status).toBe(404);
  });

  it('no token → 401, wrong → 401, right → 200; /health stays open', async () => {
    h = await tokenHarness();
    const none = await h.app.request('/api/sessions');
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    const wrong = await h.app.request('/api/sessions', { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const prefix = await h.app.request('/api/sessions', {
      headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
    });
    expect(prefix.status).toBe(401);
    const right = await h.app.request('/api/sessions', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(right.status).toBe(200);
    expect((await h.app.request('/metrics')).status).toBe(401);
    expect((await h.app.request('/health')).status).toBe(200);
    // a browser navigating is sent to the login page
    const nav = await h.app.request('/', { headers: { accept: 'text/html' } });
    expect(nav.status).toBe(302);
    expect(nav.headers.get('location')).toBe('/login');
  });

  it('compares in constant time on equal-length digests', async () => {
    h = await tokenHarness();
    const spy = vi.spyOn(crypto, 'timingSafeEqual');
    await h.app.request('/api/sessions', { headers: { authorization: 'Bearer short' } });
    expect(spy).toHaveBeenCalled();
    for (const [a, b] of spy.mock.calls) expect((a as Buffer).length).toBe((b as Buffer).length);
  });

  it('login form sets an HttpOnly SameSite=Strict cookie holding an HMAC, which then opens the API and stream', async () => {
    h = await tokenHarness();
    const form = await h.app.request('/login');
    expect(await form.text()).toContain('<form method="post" action="/login">');
    const bad = await h.app.request('/login', {
      method: 'POST',
      body: new URLSearchParams({ token: 'wrong' }),
    });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    const garbage = await h.app.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      body: '\u0000garbage',
    });
    expect(garbage.status).toBe(401);

    const ok = await h.app.request('/login', { method: 'POST', body: new URLSearchParams({ token: TOKEN }) });
    expect(ok.status).toBe(303);
    const cookie = ok.headers.get('set-cookie') ?? '';
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).not.toContain(TOKEN);
    const pair = cookie.split(';')[0] ?? '';
    expect(pair).toBe(`${AUTH_COOKIE}=${cookieValue(TOKEN)}`);
    expect((await h.app.request('/api/sessions', { headers: { cookie: pair } })).status).toBe(200);
    expect(
      (await h.app.request('/api/sessions', { headers: { cookie: `${AUTH_COOKIE}=forged` } })).status,
    ).toBe(401);

    const stream = await openSse(`${h.url}/api/stream`, { cookie: pair });
    expect(stream.status).toBe(200);
    stream.close();
    const refused = await openSse(`${h.url}/api/stream`);
    expect(refused.status).toBe(401);
  });

  it('never puts the token in a response or a log line', async () => {
    const cap = capturedLogger();
    h = await tokenHarness(cap.logger);
    const ev = sessionEvents('agent:main:main');
    h.pipeline.ingest([ev.seen({ label: 'x' }), ev.started()]);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const bodies: string[] = [];
    const paths = [
      '/health',
      '/metrics',
      '/api/sessions',
      '/api/sessions/agent%3Amain%3Amain',
      '/api/events',
      '/login',
      '/nope',
    ];
    for (const p of paths) {
      for (const headers of [auth, {}, { authorization: `Bearer ${TOKEN}x` }]) {
        const r = await fetch(`${h.url}${p}`, { headers });
        bodies.push(JSON.stringify([...r.headers]), await r.text());
      }
    }
    const login = await fetch(`${h.url}/login`, {
      method: 'POST',
      body: new URLSearchParams({ token: TOKEN }),
      redirect: 'manual',
    });
    bodies.push(JSON.stringify([...login.headers]), await login.text());
    const all = bodies.join('\n');
    expect(all.length).toBeGreaterThan(1000);
    expect(all).not.toContain(TOKEN);
    await new Promise((ok) => setImmediate(ok));
    const log = cap.text();
    expect(log).toContain('"path":"/api/sessions"'); // the capture works: requests are logged
    expect(log).not.toContain(TOKEN);
    expect(log).not.toContain(cookieValue(TOKEN));
  });

  it('off loopback, /health without the token answers only its status; with it, the full report', async () => {
    h = await tokenHarness();
    const bare = await h.app.request('/health');
    expect(bare.status).toBe(200);
    expect(await bare.json()).toEqual({ status: 'ok' });
    const wrong = await h.app.request('/health', { headers: { authorization: 'Bearer nope' } });
    expect(await wrong.json()).toEqual({ status: 'ok' });
    const full = (await (
      await h.app.request('/health', { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { store: { path: string }; sinks: unknown[] };
    expect(full.store.path).toContain('store.sqlite');
    expect(full.sinks).toHaveLength(1);
    const byCookie = await h.app.request('/health', {
      headers: { cookie: `${AUTH_COOKIE}=${cookieValue(TOKEN)}` },
    });
    expect(Object.keys((await byCookie.json()) as object)).toContain('store');
    // /metrics needs the token too
    expect((await h.app.request('/metrics')).status).toBe(401);
    const metrics = await h.app.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('clawpulse_sse_clients');
  });

  it('refuses a client after 5 failed logins in a minute (429, Retry-After), right token or not', async () => {
    h = await tokenHarness();
    const clock = h.clock as ManualClock;
    const from = (ip: string) => ({ incoming: { socket: { remoteAddress: ip } } });
    const login = (token: string, ip = '203.0.113.7', headers: Record<string, string> = {}) =>
      h.app.request('/login', { method: 'POST', body: new URLSearchParams({ token }), headers }, from(ip));
    for (let i = 0; i < 5; i++) {
      expect((await login(`guess-${i}`)).status).toBe(401);
      clock.advance(1000);
    }
    const refused = await login(TOKEN);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('55'); // the first failure leaves the window in 55 s
    expect(refused.headers.get('set-cookie')).toBeNull();
    expect((await login('guess-6')).status).toBe(429);
    // another address is not affected
    expect((await login(TOKEN, '198.51.100.2')).status).toBe(303);
    clock.advance(55_000);
    // the first failure has left the window: one more try
    expect((await login('guess-7')).status).toBe(401);
    expect((await login(TOKEN)).status).toBe(429);
    clock.advance(60_000);
    expect((await login(TOKEN)).status).toBe(303);
    // behind a proxy on this host, each forwarded address counts for itself
    for (let i = 0; i < 5; i++) {
      expect((await login('x', '127.0.0.1', { 'x-forwarded-for': '192.0.2.1' })).status).toBe(401);
    }
    expect((await login('x', '127.0.0.1', { 'x-forwarded-for': '192.0.2.1' })).status).toBe(429);
    expect((await login(TOKEN, '127.0.0.1', { 'x-forwarded-for': '192.0.2.2' })).status).toBe(303);
    // from a peer that is not on this host, X-Forwarded-For is not believed
    for (let i = 0; i < 5; i++) {
      expect((await login('x', '203.0.113.9', { 'x-forwarded-for': `192.0.2.${10 + i}` })).status).toBe(401);
    }
    expect((await login(TOKEN, '203.0.113.9', { 'x-forwarded-for': '192.0.2.99' })).status).toBe(429);
  });

  it('marks the cookie Secure over HTTPS: TLS, or X-Forwarded-Proto from a proxy on this host only', async () => {
    h = await tokenHarness();
    const cookie = async (env: object, headers: Record<string, string> = {}) =>
      (
        await h.app.request(
          '/login',
          { method: 'POST', body: new URLSearchParams({ token: TOKEN }), headers },
          env,
        )
      ).headers.get('set-cookie') ?? '';
    const peer = (remoteAddress: string, encrypted?: boolean) => ({
      incoming: { socket: { remoteAddress, encrypted } },
    });
    expect(await cookie(peer('203.0.113.7'))).not.toContain('Secure');
    expect(await cookie(peer('203.0.113.7', true))).toMatch(/; Secure$/);
    expect(await cookie(peer('127.0.0.1'), { 'x-forwarded-proto': 'https' })).toMatch(/; Secure$/);
    expect(await cookie(peer('::ffff:127.0.0.1'), { 'x-forwarded-proto': 'https' })).toMatch(/; Secure$/);
    expect(await cookie(peer('127.0.0.1'), { 'x-forwarded-proto': 'http' })).not.toContain('Secure');
    // anyone can send the header: from elsewhere it says nothing
    expect(await cookie(peer('203.0.113.7'), { 'x-forwarded-proto': 'https' })).not.toContain('Secure');
    // over a real socket on 127.0.0.1 (a proxy on this host)
    const res = await fetch(`${h.url}/login`, {
      method: 'POST',
      body: new URLSearchParams({ token: TOKEN }),
      headers: { 'x-forwarded-proto': 'https' },
      redirect: 'manual',
    });
    expect(res.headers.get('set-cookie')).toMatch(/; Secure$/);
  });
});
