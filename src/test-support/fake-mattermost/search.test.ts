/** The fake's post search, over HTTP, as the API reference documents it. */
import { afterEach, describe, expect, it } from 'vitest';
import { FAKE_TEAM_ID, type FakeMattermost, startFakeMattermost } from './server.js';

let mm: FakeMattermost | undefined;
afterEach(async () => {
  await mm?.close();
  mm = undefined;
});

async function search(path: string, body: unknown, token = mm?.token) {
  const res = await fetch(`${mm?.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get('content-type'), json: (await res.json()) as any };
}

async function create(channel_id: string, message: string, extra: Record<string, unknown> = {}) {
  const res = await fetch(`${mm?.url}/api/v4/posts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${mm?.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ channel_id, message, ...extra }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string };
}

describe('fake Mattermost post search', () => {
  it('finds a whole-word marker in member channels of the team, newest first, shaped like PostListWithSearchMatches', async () => {
    let t = 1_000;
    mm = await startFakeMattermost({ now: () => t++ });
    const a = mm.addChannel();
    const b = mm.addChannel();
    const otherTeam = mm.addChannel(undefined, { teamId: 'otherteamaaaaaaaaaaaaaaaaa' });
    const notMember = mm.addChannel(undefined, { member: false });
    const p1 = await create(a, 'clawpulse live status: main (clawpulsebox)', {
      type: 'custom_livestatus',
      props: { livestatus: { v: 1 } },
    });
    const p2 = await create(b, 'clawpulse live status: coder (clawpulsebox)', { type: 'custom_livestatus' });
    await create(a, 'a normal post about clawpulse');
    await create(a, 'not the marker: clawpulseboxes or xclawpulsebox');
    await create(otherTeam, 'clawpulse live status: elsewhere (clawpulsebox)');
    mm.postAs('someoneelseaaaaaaaaaaaaaaa', { channel_id: notMember, message: 'secret (clawpulsebox)' });
    const gone = await create(b, 'deleted (clawpulsebox)');
    mm.deletePost(gone.id);
    // an edit leaves a soft-deleted history row with the old message: never a hit
    await fetch(`${mm.url}/api/v4/posts/${p2.id}/patch`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${mm.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'clawpulse live status: coder done (clawpulsebox)' }),
    });

    const r = await search(`/api/v4/teams/${FAKE_TEAM_ID}/posts/search`, {
      terms: 'clawpulsebox',
      is_or_search: false,
    });
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json');
    expect(r.json.order).toEqual([p2.id, p1.id]);
    expect(Object.keys(r.json.posts).sort()).toEqual([p1.id, p2.id].sort());
    expect(r.json.posts[p1.id]).toMatchObject({
      type: 'custom_livestatus',
      channel_id: a,
      props: { livestatus: { v: 1 } },
      pending_post_id: '',
    });
    expect(r.json.posts[p2.id].message).toContain('coder done');
    expect(r.json).toMatchObject({ matches: null, next_post_id: '', prev_post_id: '', has_next: false });

    // every team of the user
    const all = await search('/api/v4/posts/search', { terms: 'clawpulsebox', is_or_search: false });
    expect(all.json.order).toHaveLength(3);
    // case-insensitive, prefix, phrase, exclusion, OR
    expect(
      (await search('/api/v4/posts/search', { terms: 'CLAWPULSEBOX', is_or_search: false })).json.order,
    ).toHaveLength(3);
    expect(
      (await search('/api/v4/posts/search', { terms: 'clawpulsebox*', is_or_search: false })).json.order,
    ).toHaveLength(4);
    expect(
      (await search('/api/v4/posts/search', { terms: '"live status: main"', is_or_search: false })).json
        .order,
    ).toEqual([p1.id]);
    expect(
      (await search('/api/v4/posts/search', { terms: 'clawpulsebox -coder', is_or_search: false })).json
        .order,
    ).toHaveLength(2);
    expect(
      (await search('/api/v4/posts/search', { terms: 'main coder', is_or_search: false })).json.order,
    ).toEqual([]);
    expect(
      (await search('/api/v4/posts/search', { terms: 'main coder', is_or_search: true })).json.order,
    ).toHaveLength(2);
  });

  it('pages with page/per_page and refuses bad bodies, unknown teams and bad tokens', async () => {
    let t = 1_000;
    mm = await startFakeMattermost({ now: () => t++ });
    const c = mm.addChannel();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create(c, `box ${i} clawpulsebox`)).id);
    const path = `/api/v4/teams/${FAKE_TEAM_ID}/posts/search`;
    const p0 = await search(path, { terms: 'clawpulsebox', is_or_search: false, page: 0, per_page: 2 });
    expect(p0.json.order).toEqual([ids[4], ids[3]]);
    expect(p0.json.has_next).toBe(true);
    const p2 = await search(path, { terms: 'clawpulsebox', is_or_search: false, page: 2, per_page: 2 });
    expect(p2.json.order).toEqual([ids[0]]);
    expect(p2.json.has_next).toBe(false);
    expect((await search(path, { is_or_search: false })).status).toBe(400);
    expect((await search(path, { terms: 'x', page: -1 })).status).toBe(400);
    expect(
      (await search('/api/v4/teams/nosuchteamaaaaaaaaaaaaaaaa/posts/search', { terms: 'x' })).status,
    ).toBe(403);
    expect((await search(path, { terms: 'x' }, 'wrong')).status).toBe(401);
    expect((await search(path, { terms: 'in:town-square x' })).status).toBe(501);
  });
});
