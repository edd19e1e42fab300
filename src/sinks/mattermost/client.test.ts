import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeMattermost, startFakeMattermost } from '../../test-support/fake-mattermost/server.js';
import { createMattermostClient, type MattermostClient, MattermostError, toError } from './client.js';

let mm: FakeMattermost;
let client: MattermostClient;
beforeEach(async () => {
  mm = await startFakeMattermost({ maxPostSize: 4000 });
  client = createMattermostClient({ url: mm.url, token: mm.token });
});
afterEach(async () => {
  await client.close();
  await mm.close();
});

async function caught(p: Promise<unknown>): Promise<MattermostError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(MattermostError);
    return err as MattermostError;
  }
  throw new Error('expected a MattermostError');
}

describe('Mattermost client', () => {
  it('sends Bearer auth and JSON with Content-Type exactly application/json', async () => {
    const ch = mm.addChannel();
    const post = await client.createPost({ channel_id: ch, message: 'hi', pending_post_id: 'x:1' });
    expect(post.message).toBe('hi');
    const req = mm.requests('POST')[0];
    expect(req?.headers.authorization).toBe(`Bearer ${mm.token}`);
    expect(req?.headers['content-type']).toBe('application/json');
    expect(await client.getMaxPostSize()).toBe(4000);
    expect((await client.getMe()).id).toBe(mm.userId);
  });

  it('turns an AppError body into status, id and request id', async () => {
    const e = await caught(client.patchPost('a'.repeat(26), { message: 'x' }));
    expect(e.status).toBe(403);
    expect(e.id).toBe('api.context.permissions.app_error');
    expect(e.requestId).toMatch(/^[a-z0-9]{26}$/);
    expect(e.isServerFailure).toBe(false);
  });

  it('reads the wait of a plain-text 429 from Retry-After', async () => {
    mm.rateLimitNext(1, 4);
    const e = await caught(client.getMe());
    expect(e.status).toBe(429);
    expect(e.retryAfterMs).toBe(4000);
    expect(e.message).toContain('limit exceeded');
  });

  it('reports a dropped connection as status 0, a server failure', async () => {
    mm.failNext(1, 'drop');
    const e = await caught(client.getMe());
    expect(e.status).toBe(0);
    expect(e.isServerFailure).toBe(true);
    expect(client.stats().failures).toBe(1);
  });

  it('falls back to X-Ratelimit-Reset (relative seconds) and reads a proxy page as text', () => {
    expect(toError(429, 'limit exceeded\n', { 'x-ratelimit-reset': '2' }).retryAfterMs).toBe(2000);
    const e = toError(502, '<html>Bad Gateway</html>', {});
    expect(e.status).toBe(502);
    expect(e.isServerFailure).toBe(true);
    expect(e.message).toContain('Bad Gateway');
  });
});
