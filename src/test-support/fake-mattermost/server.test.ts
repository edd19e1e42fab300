/**
 * The fake is only useful if it is as strict as the real server: each test checks one
 * statement of shared/research/mattermost.md.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeMattermost, startFakeMattermost } from './server.js';

let mm: FakeMattermost;
let channel: string;
let fakeNow = 1_000_000;

beforeEach(async () => {
  fakeNow = 1_000_000;
  mm = await startFakeMattermost({
    maxPostSize: 50,
    webappPlugins: ['com.clawpulse.livestatus'],
    now: () => fakeNow,
  });
  channel = mm.addChannel();
});
afterEach(async () => {
  await mm.close();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(mm.url + path, {
    method,
    headers: {
      Authorization: `Bearer ${mm.token}`,
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const create = (extra: Record<string, unknown> = {}) =>
  call('POST', '/api/v4/posts', { channel_id: channel, message: 'hi', ...extra });

describe('fake Mattermost', () => {
  it('answers a bad token with 401 session_expired in the AppError shape', async () => {
    const r = await call('GET', '/api/v4/users/me', undefined, { Authorization: 'Bearer nope' });
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(Object.keys(r.json).sort()).toEqual([
      'detailed_error',
      'id',
      'message',
      'request_id',
      'status_code',
    ]);
    expect(r.json.id).toBe('api.context.session_expired.app_error');
    expect(r.json.request_id).toBe(r.headers.get('x-request-id'));
  });

  it('accepts Bearer case-insensitively and Token, returns users/me with exact JSON content type', async () => {
    const a = await call('GET', '/api/v4/users/me', undefined, { Authorization: `BEARER ${mm.token}` });
    const b = await call('GET', '/api/v4/users/me', undefined, { Authorization: `Token ${mm.token}` });
    expect(a.status).toBe(200);
    expect(b.json.id).toBe(mm.userId);
    expect(a.headers.get('content-type')).toBe('application/json');
    expect(a.headers.get('expires')).toBe('0');
  });

  it('publishes MaxPostSize as a string in the old-format client config only', async () => {
    expect((await call('GET', '/api/v4/config/client?format=old')).json.MaxPostSize).toBe('50');
    expect((await call('GET', '/api/v4/config/client')).status).toBe(501);
  });

  it('counts the message limit in runes, on create and on patch', async () => {
    const emoji = '😀'.repeat(50); // 50 runes, 100 UTF-16 units, 200 bytes
    expect((await create({ message: emoji })).status).toBe(201);
    const r = await create({ message: `${emoji}x` });
    expect(r.status).toBe(400);
    expect(r.json.id).toBe('model.post.is_valid.message_length.app_error');
    const id = (await create()).json.id;
    const p = await call('PUT', `/api/v4/posts/${id}/patch`, { message: 'y'.repeat(51) });
    expect(p.status).toBe(400);
    expect(mm.post(id)?.message).toBe('hi');
  });

  it('refuses a body whose Content-Type is not exactly application/json', async () => {
    const r = await call(
      'POST',
      '/api/v4/posts',
      { channel_id: channel, message: 'x' },
      { 'Content-Type': 'application/json; charset=utf-8' },
    );
    expect(r.status).toBe(400);
    expect(mm.livePosts()).toHaveLength(0);
  });

  it('dedupes creates by pending_post_id for 30 s', async () => {
    const a = await create({ pending_post_id: 'p1' });
    const b = await create({ pending_post_id: 'p1', message: 'other' });
    expect(b.status).toBe(201);
    expect(b.json.id).toBe(a.json.id);
    fakeNow += 30_001;
    const c = await create({ pending_post_id: 'p1' });
    expect(c.json.id).not.toBe(a.json.id);
  });

  it('answers 500 deduplicate pending while the first create is in flight', async () => {
    mm.slow(2000); // wide enough that the retry lands while the first is in flight, even under load
    const first = create({ pending_post_id: 'p2' });
    // the first create is in the server's pending cache before the retry is sent
    await expect.poll(() => mm.store.inFlight('p2'), { timeout: 5000 }).toBe(true);
    mm.slow(0);
    const second = await create({ pending_post_id: 'p2' });
    expect(second.status).toBe(500);
    expect(second.json.id).toBe('api.post.deduplicate_create_post.pending');
    expect((await first).status).toBe(201);
    expect(mm.livePosts()).toHaveLength(1);
  });

  it('keeps edit_at 0 on a props-only patch, and patch props replaces the whole map', async () => {
    const id = (await create({ type: 'custom_livestatus', props: { a: 1, b: 2 } })).json.id;
    expect(mm.post(id)?.props).toEqual({ a: 1, b: 2, from_bot: 'true' });
    fakeNow += 10;
    const r = await call('PUT', `/api/v4/posts/${id}/patch`, { props: { a: 3 } });
    expect(r.json.edit_at).toBe(0);
    expect(r.json.props).toEqual({ a: 3 });
    expect(r.json.type).toBe('custom_livestatus');
    fakeNow += 10;
    const m = await call('PUT', `/api/v4/posts/${id}/patch`, { message: 'changed' });
    expect(m.json.edit_at).toBe(fakeNow);
    expect(m.json.props).toEqual({ a: 3 });
    expect(mm.store.history.filter((h) => h.original_id === id)).toHaveLength(2);
  });

  it('PUT replaces: omitted props blank the map; id must match; same message keeps edit_at', async () => {
    const id = (await create({ props: { k: 'v' } })).json.id;
    expect((await call('PUT', `/api/v4/posts/${id}`, { id: 'x'.repeat(26), message: 'hi' })).status).toBe(
      400,
    );
    const r = await call('PUT', `/api/v4/posts/${id}`, { id, message: 'hi' });
    expect(r.json.props).toEqual({});
    expect(r.json.edit_at).toBe(0);
  });

  it('edits of a deleted post answer 403, a GET 404', async () => {
    const id = (await create()).json.id;
    mm.deletePost(id);
    const e = await call('PUT', `/api/v4/posts/${id}/patch`, { message: 'x' });
    expect(e.status).toBe(403);
    expect(e.json.id).toBe('api.context.permissions.app_error');
    const g = await call('GET', `/api/v4/posts/${id}`);
    expect(g.status).toBe(404);
    expect(g.json.id).toBe('app.post.get.app_error');
  });

  it('rejects unknown channels, bad roots and replies to replies', async () => {
    expect((await call('POST', '/api/v4/posts', { channel_id: 'z'.repeat(26), message: 'x' })).status).toBe(
      403,
    );
    const root = (await create()).json.id;
    const reply = await create({ root_id: root });
    expect(reply.status).toBe(201);
    const r2 = await create({ root_id: reply.json.id });
    expect(r2.json.id).toBe('api.post.create_post.root_id.app_error');
    expect((await create({ type: 'system_join' })).status).toBe(400);
    expect((await create({ type: 'weird' })).json.id).toBe('model.post.is_valid.type.app_error');
  });

  it('answers 429 with a plain-text body and relative reset headers', async () => {
    mm.rateLimitNext(1, 3);
    const r = await call('GET', '/api/v4/users/me');
    expect(r.status).toBe(429);
    expect(r.text).toBe('limit exceeded\n');
    expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(r.headers.get('retry-after')).toBe('3');
    expect(r.headers.get('x-ratelimit-reset')).toBe('3');
    expect((await call('GET', '/api/v4/users/me')).status).toBe(200);
  });

  it('injects failures and drops, lists enabled webapp plugins, logs every request', async () => {
    mm.failNext(1);
    expect((await call('GET', '/api/v4/users/me')).status).toBe(500);
    mm.failNext(1, 'drop');
    await expect(call('GET', '/api/v4/users/me')).rejects.toThrow();
    const p = await call('GET', '/api/v4/plugins/webapp');
    expect(p.json.map((x: { id: string }) => x.id)).toEqual(['com.clawpulse.livestatus']);
    expect(mm.requests('GET', '/api/v4/users/me')).toHaveLength(2);
  });

  it('lists the posts of a channel modified since a time, history rows and replies included; reads carry no pending_post_id', async () => {
    const a = (await create({ pending_post_id: 'pa', props: { mark: 'a' } })).json;
    expect(a.pending_post_id).toBe('pa'); // the create's own answer has it
    fakeNow += 10;
    const b = (await create({ root_id: a.id, pending_post_id: 'pb' })).json;
    fakeNow += 10;
    await call('PUT', `/api/v4/posts/${a.id}/patch`, { message: 'edited' }); // a history row of a
    const all = await call('GET', `/api/v4/channels/${channel}/posts?since=${1_000_000 - 1}`);
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toBe('application/json');
    expect(Object.keys(all.json).sort()).toEqual([
      'has_next',
      'next_post_id',
      'order',
      'posts',
      'prev_post_id',
    ]);
    const rows = all.json.order.map((id: string) => all.json.posts[id]);
    expect(rows).toHaveLength(3); // a, its reply b, a's old version
    expect(rows.every((p: { pending_post_id: string }) => p.pending_post_id === '')).toBe(true);
    const history = rows.find((p: { original_id: string }) => p.original_id === a.id);
    expect(history.delete_at).toBeGreaterThan(0);
    expect(history.props.mark).toBe('a');
    // only rows updated after `since`; the thread root comes along in `posts`, not in `order`
    const later = await call('GET', `/api/v4/channels/${channel}/posts?since=${b.update_at}`);
    expect(later.json.order).toHaveLength(2);
    expect(later.json.order).not.toContain(b.id);
    const reply = await call('GET', `/api/v4/channels/${channel}/posts?since=${b.create_at - 1}`);
    expect(reply.json.order).toContain(b.id);
    expect((await call('GET', `/api/v4/posts/${a.id}`)).json.pending_post_id).toBe('');
    // a page: live posts, newest first
    const page = await call('GET', `/api/v4/channels/${channel}/posts?per_page=1`);
    expect(page.json.order).toEqual([b.id]);
    expect(page.json.has_next).toBe(true);
    // no read permission on a channel that does not exist
    const none = await call('GET', `/api/v4/channels/${'z'.repeat(26)}/posts?since=1`);
    expect(none.status).toBe(403);
    expect(none.json.id).toBe('api.context.permissions.app_error');
  });

  it('goes down and comes back: 503s, dropped connections, a closed port', async () => {
    mm.outage(503);
    const r = await call('GET', '/api/v4/users/me');
    expect(r.status).toBe(503);
    expect(r.json.status_code).toBe(503);
    mm.outage('drop');
    await expect(call('GET', '/api/v4/users/me')).rejects.toThrow();
    mm.outage('refuse');
    await expect(call('GET', '/api/v4/users/me')).rejects.toThrow();
    await mm.restore();
    expect((await call('GET', '/api/v4/users/me')).status).toBe(200);
  });

  it('a shorter pending_post_id window stands for a client back after the server forgot the id', async () => {
    await mm.close();
    mm = await startFakeMattermost({ now: () => fakeNow, pendingPostTtlMs: 1000 });
    channel = mm.addChannel();
    const a = await create({ pending_post_id: 'p' });
    fakeNow += 999;
    expect((await create({ pending_post_id: 'p' })).json.id).toBe(a.json.id);
    fakeNow += 1;
    expect((await create({ pending_post_id: 'p' })).json.id).not.toBe(a.json.id);
  });
});
