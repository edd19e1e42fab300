/**
 * `clawpulse tail` while a daemon runs mirrors the daemon's model through its API: the trees it
 * shows are fetched once, then kept current by the stream's events (new sessions included).
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRemoteModel, type RemoteModel } from '../src/cli/remote-model.js';
import { loadConfig } from '../src/config/config.js';
import { type Daemon, startDaemon } from '../src/daemon/daemon.js';
import { silentLogger } from '../src/infra/logger.js';
import { LIVE_KEYS, makeLiveStateDir } from './support/live-state.js';

let daemon: Daemon | undefined;
let model: RemoteModel | undefined;
afterEach(async () => {
  model?.stop();
  await daemon?.stop('test');
  daemon = undefined;
});

const poll = { timeout: 15_000, interval: 50 };

describe('tail following the daemon', () => {
  it('shows what the daemon shows, and keeps up with new events and new sessions', async () => {
    const { root, stateDir } = makeLiveStateDir();
    const config = loadConfig({
      OPENCLAW_STATE_DIR: stateDir,
      CLAWPULSE_HOME: join(root, 'cp'),
      SOURCES: 'files',
      HEALTH_PORT: 'any',
      POLL_INTERVAL_MS: '50',
    });
    const d = await startDaemon(config, { logger: silentLogger, tickMs: 100 });
    daemon = d;
    await expect.poll(() => d.pipeline.tracker.all().length, poll).toBe(3);
    const m = createRemoteModel(
      { pid: process.pid, kind: 'daemon', url: `http://127.0.0.1:${d.port}` },
      config,
    );
    model = m;
    m.follow();
    await expect.poll(() => m.all().length, poll).toBe(3);
    const view = (k: string) => {
      const s = m.get(k);
      return (
        s && { status: s.status, tokens: s.tokens.total, tools: s.tools.map((t) => `${t.name}:${t.status}`) }
      );
    };
    const truth = (k: string) => {
      const s = d.pipeline.tracker.get(k);
      return (
        s && { status: s.status, tokens: s.tokens.total, tools: s.tools.map((t) => `${t.name}:${t.status}`) }
      );
    };
    for (const k of Object.values(LIVE_KEYS)) expect(view(k)).toEqual(truth(k));
    expect(view(LIVE_KEYS.running)?.tools).toEqual(['exec:running']);

    // the running tool returns and the run ends: the stream brings it
    const dir = join(stateDir, 'agents', 'main', 'sessions');
    const index = JSON.parse(readFileSync(join(dir, 'sessions.json'), 'utf8')) as Record<
      string,
      { sessionId: string }
    >;
    const runningFile = join(dir, `${index[LIVE_KEYS.running]?.sessionId}.jsonl`);
    const now = Date.now();
    const msg = (id: string, message: Record<string, unknown>) =>
      `${JSON.stringify({ type: 'message', id, parentId: null, timestamp: new Date(now).toISOString(), message: { ...message, timestamp: now } })}\n`;
    appendFileSync(
      runningFile,
      msg('c0000001', {
        role: 'toolResult',
        toolCallId: 'call_1',
        toolName: 'exec',
        content: [{ type: 'text', text: 'built' }],
      }) +
        msg('c0000002', {
          role: 'assistant',
          content: [{ type: 'text', text: 'Build green.' }],
          stopReason: 'stop',
        }),
    );
    await expect.poll(() => view(LIVE_KEYS.running)?.tools, poll).toEqual(['exec:ok']);
    await expect
      .poll(() => m.get(LIVE_KEYS.running)?.lines.at(-1), poll)
      .toMatchObject({ text: 'Build green.' });

    // a session that did not exist when tail started
    const id = '33333333-aaaa-4bbb-8ccc-000000000001';
    writeFileSync(
      join(dir, `${id}.jsonl`),
      `${JSON.stringify({ type: 'session', version: 3, id, timestamp: new Date(now).toISOString() })}\n${msg('d0000001', { role: 'user', content: 'hi' })}${msg('d0000002', { role: 'assistant', content: [{ type: 'text', text: 'Hello!' }], stopReason: 'stop' })}`,
    );
    await expect
      .poll(() => m.get(`agent:main:session:${id}`)?.lines.at(-1), poll)
      .toMatchObject({ text: 'Hello!' });
    for (const k of [...Object.values(LIVE_KEYS), `agent:main:session:${id}`])
      expect(view(k)).toEqual(truth(k));
  }, 60_000);
});
