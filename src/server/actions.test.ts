import { Writable } from 'node:stream';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../../test/e2e/harness.js';
import { type ActionActor, ActionError, type SessionActions } from '../dispatch/session-actions.js';
import { createLogger, silentLogger } from '../infra/logger.js';
import { createActionRoutes, MAX_STEER_BYTES, UNAVAILABLE } from './actions.js';

const TOKEN = 'dash-secret-41c9e0aa77';
const KEY = 'agent:main:mattermost:channel:abc';
const STEER = `/api/sessions/${encodeURIComponent(KEY)}/steer`;
const ABORT = `/api/sessions/${encodeURIComponent(KEY)}/abort`;
const JSON_TYPE = { 'content-type': 'application/json' };

interface Call {
  action: 'steer' | 'abort';
  key: string;
  message?: string;
  actor: ActionActor;
}

/** records every call; `fail` makes the next calls throw it */
function fakeActions() {
  const calls: Call[] = [];
  const state: { fail?: unknown } = {};
  const actions: SessionActions = {
    async steer(key, message, actor) {
      calls.push({ action: 'steer', key, message, actor });
      if (state.fail) throw state.fail;
      return { mode: 'steer', runId: 'run-9' };
    },
    async abort(key, actor) {
      calls.push({ action: 'abort', key, actor });
      if (state.fail) throw state.fail;
      return { method: 'sessions.abort', runId: 'run-9', aborted: true };
    },
  };
  return { actions, calls, state };
}

const steer = (app: Harness['app'], body: unknown, headers: Record<string, string> = {}) =>
  app.request(STEER, {
    method: 'POST',
    headers: { ...JSON_TYPE, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('steer and abort routes', () => {
  it('steers: passes key, message and actor through and answers mode and runId', async () => {
    const f = fakeActions();
    h = await createHarness({ actions: f.actions });
    const res = await steer(h.app, { message: 'use the staging DB' }, { 'user-agent': 'curl/8.5' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, mode: 'steer', runId: 'run-9' });
    expect(f.calls).toEqual([
      {
        action: 'steer',
        key: KEY,
        message: 'use the staging DB',
        actor: { ip: 'unknown', userAgent: 'curl/8.5', via: 'api' },
      },
    ]);
  });

  it('aborts: answers method, runId and aborted; an unencoded key with ":" works too', async () => {
    const f = fakeActions();
    h = await createHarness({ actions: f.actions });
    const res = await h.app.request(`/api/sessions/${KEY}/abort`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, method: 'sessions.abort', runId: 'run-9', aborted: true });
    expect(f.calls.map((c) => [c.action, c.key])).toEqual([['abort', KEY]]);
  });

  it('refuses bad steer bodies with 400 (415 without the JSON type, 413 past the body cap)', async () => {
    const f = fakeActions();
    h = await createHarness({ actions: f.actions });
    for (const body of [{ message: '' }, { message: '  \n ' }, { message: 42 }, {}, null, '{not json']) {
      const res = await steer(h.app, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(typeof ((await res.json()) as { error: unknown }).error).toBe('string');
    }
    const long = await steer(h.app, { message: 'é'.repeat(MAX_STEER_BYTES / 2 + 1) });
    expect(long.status).toBe(400);
    expect(await long.json()).toEqual({
      error: `message is ${MAX_STEER_BYTES + 2} bytes; at most ${MAX_STEER_BYTES}`,
    });
    expect((await steer(h.app, { message: 'x'.repeat(MAX_STEER_BYTES) })).status).toBe(200);

    const untyped = await h.app.request(STEER, { method: 'POST', body: JSON.stringify({ message: 'hi' }) });
    expect(untyped.status).toBe(415);
    const form = await steer(h.app, 'message=hi', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    expect(
      (await steer(h.app, { message: 'hi' }, { 'content-type': 'application/json; charset=utf-8' })).status,
    ).toBe(200);
    const huge = await steer(h.app, { message: 'x'.repeat(300_000) });
    expect(huge.status).toBe(413);
    expect(f.calls).toHaveLength(2);
  });

  it('passes ActionError statuses and messages through; anything else is a 502 without internals', async () => {
    const f = fakeActions();
    h = await createHarness({ actions: f.actions });
    f.state.fail = new ActionError('no such session', 404);
    const missing = await steer(h.app, { message: 'hi' });
    expect([missing.status, await missing.json()]).toEqual([404, { error: 'no such session' }]);
    f.state.fail = new ActionError('no active run to abort', 409);
    const idle = await h.app.request(ABORT, { method: 'POST' });
    expect([idle.status, await idle.json()]).toEqual([409, { error: 'no active run to abort' }]);

    f.state.fail = new Error('connect ECONNREFUSED 10.0.0.7:18789 token=abc');
    const broken = await h.app.request(ABORT, { method: 'POST' });
    expect(broken.status).toBe(502);
    const text = await broken.text();
    expect(text).toContain('abort failed');
    expect(text).not.toContain('ECONNREFUSED');
    f.state.fail = 'a string, not an Error';
    expect((await steer(h.app, { message: 'hi' })).status).toBe(502);
  });

  it('answers 502 when the gateway call does not settle in time', async () => {
    const hang = () => new Promise<never>(() => {});
    const app = new Hono().route(
      '/api',
      createActionRoutes({
        actions: { steer: hang, abort: hang },
        logger: silentLogger,
        token: undefined,
        listenHost: '127.0.0.1',
        timeoutMs: 50,
      }),
    );
    const res = await app.request(ABORT, { method: 'POST' });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: string }).error).toContain('did not answer');
  });

  it('without an actions dep both routes answer 503 saying what to set', async () => {
    h = await createHarness();
    for (const res of [
      await steer(h.app, { message: 'hi' }),
      await h.app.request(ABORT, { method: 'POST' }),
    ]) {
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: UNAVAILABLE });
    }
    // other methods on these paths are still the API's JSON 404
    expect((await h.app.request(STEER)).status).toBe(404);
  });
});

describe('steer and abort: cross-site and auth', () => {
  const refused = { error: 'cross-site request refused' };

  it('refuses a cross-site Origin or Sec-Fetch-Site; allows same-origin and header-less requests', async () => {
    const f = fakeActions();
    h = await createHarness({ actions: f.actions });
    const host = { host: '127.0.0.1:9090' };
    for (const headers of [
      { ...host, origin: 'https://evil.example' },
      { ...host, origin: 'http://127.0.0.1:9091' },
      { ...host, origin: 'null' },
      { ...host, 'sec-fetch-site': 'cross-site' },
      { ...host, 'sec-fetch-site': 'same-site' },
      { ...host, origin: 'http://127.0.0.1:9090', 'sec-fetch-site': 'cross-site' },
    ]) {
      const s = await steer(h.app, { message: 'hi' }, headers);
      expect([s.status, await s.json()], JSON.stringify(headers)).toEqual([403, refused]);
      const a = await h.app.request(ABORT, { method: 'POST', headers });
      expect(a.status, JSON.stringify(headers)).toBe(403);
    }
    expect(f.calls).toEqual([]);

    const same = { ...host, origin: 'http://127.0.0.1:9090', 'sec-fetch-site': 'same-origin' };
    expect((await steer(h.app, { message: 'hi' }, same)).status).toBe(200);
    expect((await h.app.request(ABORT, { method: 'POST', headers: same })).status).toBe(200);
    expect(f.calls.map((c) => c.actor.via)).toEqual(['dashboard', 'dashboard']);
    expect((await steer(h.app, { message: 'hi' }, { 'sec-fetch-site': 'none' })).status).toBe(200);
    expect((await steer(h.app, { message: 'hi' })).status).toBe(200);
    expect(f.calls.map((c) => c.actor.via).slice(2)).toEqual(['api', 'api']);
  });

  it('without a token, refuses a non-loopback Host (DNS rebinding) even when it looks same-origin', async () => {
    const f = fakeActions();
    h = await createHarness({ actions: f.actions });
    const rebound = {
      host: 'evil.example:9090',
      origin: 'http://evil.example:9090',
      'sec-fetch-site': 'same-origin',
    };
    const res = await steer(h.app, { message: 'hi' }, rebound);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toContain('loopback');
    for (const host of ['localhost:9090', '[::1]:9090', '127.0.0.2']) {
      expect((await steer(h.app, { message: 'hi' }, { host })).status, host).toBe(200);
    }
  });

  it('off loopback: no credentials → 401, bearer token → 200; never open without a token', async () => {
    const f = fakeActions();
    h = await createHarness({ actions: f.actions, http: { host: '0.0.0.0', dashboardToken: TOKEN } });
    const host = { host: 'pulse.example:9090' };
    const anon = await steer(h.app, { message: 'hi' }, host);
    expect(anon.status).toBe(401);
    expect((await h.app.request(ABORT, { method: 'POST', headers: host })).status).toBe(401);
    const wrong = await steer(h.app, { message: 'hi' }, { ...host, authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(f.calls).toEqual([]);
    const ok = await steer(h.app, { message: 'hi' }, { ...host, authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    // the token does not lift the cross-site checks
    const csrf = await steer(
      h.app,
      { message: 'hi' },
      { ...host, cookie: 'x=1', origin: 'https://evil.example' },
    );
    expect(csrf.status).toBe(401);
    const csrfAuthed = await steer(
      h.app,
      { message: 'hi' },
      { ...host, authorization: `Bearer ${TOKEN}`, origin: 'https://evil.example' },
    );
    expect(csrfAuthed.status).toBe(403);
    await h.close();

    // an app built to listen off loopback without a token (the config refuses this) stays shut
    h = await createHarness({ actions: f.actions, http: { host: '0.0.0.0' } });
    const open = await steer(h.app, { message: 'hi' }, { host: '127.0.0.1:9090' });
    expect(open.status).toBe(403);
    expect(((await open.json()) as { error: string }).error).toContain('DASHBOARD_TOKEN');
  });

  it('logs who and what (ip, user agent, via, key, length) but not the message text at info', async () => {
    const lines: string[] = [];
    const dest = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const f = fakeActions();
    h = await createHarness({ actions: f.actions, logger: createLogger('info', dest), listen: true });
    const res = await fetch(`${h.url}${STEER}`, {
      method: 'POST',
      headers: { ...JSON_TYPE, 'user-agent': 'steer-script/1' },
      body: JSON.stringify({ message: 'the secret plan' }),
    });
    expect(res.status).toBe(200);
    expect(f.calls[0]?.actor.ip).toBe('127.0.0.1');
    const log = lines.join('');
    expect(log).not.toContain('the secret plan');
    const entry = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'session action');
    expect(entry).toMatchObject({
      action: 'steer',
      sessionKey: KEY,
      messageLength: 15,
      ip: '127.0.0.1',
      userAgent: 'steer-script/1',
      via: 'api',
      mode: 'steer',
    });
  });
});
