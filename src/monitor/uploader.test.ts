import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deadUrl, waitFor } from '../../test/support/http-receiver.js';
import { type FakePlatform, startFakePlatform } from '../../test/support/monitor-platform.js';
import { ManualClock } from '../infra/clock.js';
import { tempDir } from '../test-support/temp-dir.js';
import { createUploaderLog, type UploaderLog } from './log-file.js';
import { createUploader, pyList } from './uploader.js';

const T0 = Date.UTC(2026, 2, 29, 10, 30, 1);

function setup(extra: { baseDelayMs?: number } = {}) {
  const dir = tempDir('clawpulse-uploader-');
  const clock = new ManualClock(T0);
  const log: UploaderLog = createUploaderLog({
    log: path.join(dir, 'status_uploader.log'),
    errorLog: path.join(dir, 'status_uploader_error.log'),
    now: () => clock.now(),
  });
  const uploader = createUploader({ clock, log, random: () => 0.5, ...extra });
  const read = (f: string) => {
    try {
      return fs.readFileSync(path.join(dir, f), 'utf8');
    } catch {
      return '';
    }
  };
  return { clock, log, uploader, read };
}

let platform: FakePlatform | undefined;
afterEach(async () => {
  await platform?.close();
  platform = undefined;
});

describe('uploader', () => {
  it('posts the agent ids as [{"id"}] with x-agent-token and logs the success as the original did', async () => {
    platform = await startFakePlatform({ tokens: ['tok'] });
    const { uploader, read } = setup();
    const r = await uploader.upload({ url: platform.url, token: 'tok', agentIds: ['main', 'coding'] });
    expect(r).toMatchObject({ ok: true, attempts: 1 });
    expect(platform.uploads).toEqual([{ token: 'tok', ids: ['main', 'coding'], at: expect.any(Number) }]);
    const req = platform.requests[0];
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/api/upload');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req?.body ?? '')).toEqual([{ id: 'main' }, { id: 'coding' }]);
    expect(read('status_uploader.log')).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - INFO - Upload success: \['main', 'coding'\]\n$/,
    );
    expect(read('status_uploader_error.log')).toBe('');
    await uploader.close();
  });

  it('does not retry a refused token (401/403) and logs it in both files', async () => {
    platform = await startFakePlatform({ tokens: ['tok'], unknownTokenStatus: 403 });
    const { uploader, read } = setup();
    const r = await uploader.upload({ url: platform.url, token: 'bad', agentIds: ['main'] });
    expect(r).toMatchObject({ ok: false, attempts: 1, failure: { kind: 'auth', status: 403 } });
    expect(platform.requests).toHaveLength(1);
    expect(read('status_uploader.log')).toMatch(/ - ERROR - HTTP error: 403 - Forbidden \(Invalid token/);
    expect(read('status_uploader_error.log')).toMatch(/ - ERROR - HTTP 403: Forbidden\n$/);
    await uploader.close();
  });

  it('retries a 5xx after a backoff on the injected clock, then succeeds', async () => {
    platform = await startFakePlatform({ tokens: ['tok'] });
    platform.failNext(503);
    const { uploader, clock, read } = setup({ baseDelayMs: 5000 });
    const p = uploader.upload(
      { url: platform.url, token: 'tok', agentIds: ['main'] },
      { deadline: T0 + 300_000 },
    );
    await waitFor(
      () => read('status_uploader.log').includes('Retrying the upload'),
      'the retry to be planned',
    );
    expect(platform.requests).toHaveLength(1);
    clock.advance(3749); // equal jitter with random 0.5: 3750 ms
    await new Promise((r) => setTimeout(r, 50));
    expect(platform.requests).toHaveLength(1);
    clock.advance(1);
    const r = await p;
    expect(r).toMatchObject({ ok: true, attempts: 2 });
    expect(read('status_uploader_error.log')).toMatch(/HTTP 503: Service Unavailable/);
    await uploader.close();
  });

  it('gives up when the next try would not finish before the deadline (the next cycle)', async () => {
    const url = await deadUrl();
    const { uploader, clock, read } = setup({ baseDelayMs: 5000 });
    // timeout 30 s: after a try at T0, a retry at +3.75 s must end by +33.75 s
    const p = uploader.upload(
      { url, token: 'tok', agentIds: ['main'] },
      { deadline: T0 + 40_000, maxAttempts: 9 },
    );
    await waitFor(() => read('status_uploader.log').includes('Retrying'), 'the first retry');
    clock.advance(3750);
    const r = await p;
    expect(r).toMatchObject({ ok: false, attempts: 2, failure: { kind: 'network' } });
    expect(read('status_uploader_error.log')).toMatch(
      / - ERROR - Network: .*ECONNREFUSED.*\(http:\/\/127\.0\.0\.1:\d+\/api\/upload\)/,
    );
    await uploader.close();
  });

  it('times out a platform that does not answer (on the injected clock)', async () => {
    platform = await startFakePlatform({ tokens: ['tok'] });
    platform.failNext('hang');
    const { uploader, clock } = setup();
    const p = uploader.upload({ url: platform.url, token: 'tok', agentIds: ['main'] }, { maxAttempts: 1 });
    await waitFor(() => platform?.requests.length === 1, 'the request');
    clock.advance(30_000);
    const r = await p;
    expect(r).toMatchObject({
      ok: false,
      failure: { kind: 'network', detail: expect.stringContaining('no answer within 30000 ms') },
    });
    await uploader.close();
  });

  it('never runs two uploads at once: a second call shares the one under way', async () => {
    platform = await startFakePlatform({ tokens: ['tok'] });
    platform.failNext('hang');
    const { uploader, clock } = setup();
    const a = uploader.upload({ url: platform.url, token: 'tok', agentIds: ['main'] }, { maxAttempts: 1 });
    const b = uploader.upload({ url: platform.url, token: 'tok', agentIds: ['main'] }, { maxAttempts: 1 });
    expect(uploader.busy()).toBe(true);
    await waitFor(() => platform?.requests.length === 1, 'the request');
    clock.advance(30_000);
    expect(await a).toBe(await b);
    expect(platform.requests).toHaveLength(1);
    expect(uploader.busy()).toBe(false);
    await uploader.close();
  });

  it('close() aborts an upload under way', async () => {
    platform = await startFakePlatform({ tokens: ['tok'] });
    platform.failNext('hang');
    const { uploader } = setup();
    const p = uploader.upload({ url: platform.url, token: 'tok', agentIds: ['main'] });
    await waitFor(() => platform?.requests.length === 1, 'the request');
    await uploader.close();
    expect(await p).toMatchObject({ ok: false, failure: { kind: 'aborted' } });
  });

  it('prints ids as Python did', () => {
    expect(pyList(['main', 'coding'])).toBe("['main', 'coding']");
    expect(pyList(["o'k"])).toBe(`["o'k"]`);
    expect(pyList([])).toBe('[]');
  });
});
