/**
 * No secret anywhere: a real daemon runs with every secret the config knows set to a random
 * value (MM_TOKEN, OPENCLAW_GATEWAY_TOKEN, DASHBOARD_TOKEN, OTLP_TOKEN, PLUGIN_SECRET,
 * LOKI_PASSWORD, DISPATCH_WEBHOOK_SECRET, the alert destinations' HMAC key, bot token and webhook URL
 * paths, and a Loki URL with a password in its userinfo), and is
 * made to log: start-up at debug level, a gateway that rejects its token, a Mattermost that
 * rejects its token, OTLP requests with a wrong token and with the right one, wrong dashboard
 * tokens. Then every answer (/health, /metrics, /api/*, the stream, /login, OTLP), the
 * `clawpulse status --json` output, every log line and every file the daemon wrote (the store,
 * its WAL, the PID file) are searched for each secret, whole, in pieces of 10 characters, and
 * in the encodings a leak would take (URL-encoded, base64 of user:password as Basic auth).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startFakeGateway } from '../../src/ingest/gateway/fake-gateway.helper.js';
import { startFakeMattermost } from '../../src/test-support/fake-mattermost/server.js';
import { freePort, sleep } from '../support/reliability-kit.js';
import { makeStateDir } from '../support/state-dir.js';

const run = promisify(execFile);
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const CHANNEL = 'secretscanchannel000000001';

const secret = (name: string) => `${name}-${randomBytes(12).toString('hex')}`;

/** every file under `dir`, recursively */
function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

describe('secret scan', () => {
  it('no secret value appears in any log line, answer, CLI output or file the daemon wrote', async () => {
    const { root, stateDir } = makeStateDir();
    const home = join(root, 'clawpulse');
    const secrets = {
      MM_TOKEN: secret('mmtoken'),
      OPENCLAW_GATEWAY_TOKEN: secret('gwtoken'),
      DASHBOARD_TOKEN: secret('dashtoken'),
      OTLP_TOKEN: secret('otlptoken'),
      PLUGIN_SECRET: secret('pluginsecret'),
      LOKI_PASSWORD: secret('lokipass'),
      DISPATCH_WEBHOOK_SECRET: secret('hooksecret'),
      LOKI_URL_PASSWORD: secret('lokiurlpass'),
      // alert destinations: the HMAC key, the bot token, and the secret path of the Slack and Discord webhook URLs
      ALERT_WEBHOOK_SECRET: secret('alerthooksecret'),
      ALERT_TELEGRAM_BOT_TOKEN: secret('tgbottoken'),
      ALERT_SLACK_WEBHOOK_PATH: secret('slackhookpath'),
      ALERT_DISCORD_WEBHOOK_TOKEN: secret('discordhooktoken'),
    };
    const lokiUser = 'lokiuser';

    // a gateway that takes another token, a Mattermost that takes another token: both refuse ours
    const gateway = await startFakeGateway({ token: 'the-gateway-wants-another-token' });
    const mm = await startFakeMattermost({
      token: 'the-mattermost-wants-another-token',
      channels: [CHANNEL],
    });
    // Loki and the webhook point at a port where nothing answers
    const dead = await freePort();
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      OPENCLAW_STATE_DIR: stateDir,
      CLAWPULSE_HOME: home,
      HEALTH_PORT: String(port),
      SOURCES: 'files,gateway',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'json',
      POLL_INTERVAL_MS: '100',
      OPENCLAW_GATEWAY_URL: gateway.url,
      OPENCLAW_GATEWAY_TOKEN: secrets.OPENCLAW_GATEWAY_TOKEN,
      MM_URL: mm.url,
      MM_TOKEN: secrets.MM_TOKEN,
      DEFAULT_CHANNEL: CHANNEL,
      PLUGIN_URL: `http://127.0.0.1:${dead}/plugins/livestatus`,
      PLUGIN_SECRET: secrets.PLUGIN_SECRET,
      DASHBOARD_TOKEN: secrets.DASHBOARD_TOKEN,
      OTLP_TOKEN: secrets.OTLP_TOKEN,
      LOKI_PUSH_URL: `http://${lokiUser}:${secrets.LOKI_URL_PASSWORD}@127.0.0.1:${dead}/loki/api/v1/push`,
      LOKI_USERNAME: lokiUser,
      LOKI_PASSWORD: secrets.LOKI_PASSWORD,
      DISPATCH_WEBHOOK_URL: `http://127.0.0.1:${dead}/hook`,
      DISPATCH_WEBHOOK_SECRET: secrets.DISPATCH_WEBHOOK_SECRET,
      ALERT_WEBHOOK_URL: `http://127.0.0.1:${dead}/alerts`,
      ALERT_WEBHOOK_SECRET: secrets.ALERT_WEBHOOK_SECRET,
      ALERT_SLACK_WEBHOOK_URL: `http://127.0.0.1:${dead}/services/T0SCAN/B0SCAN/${secrets.ALERT_SLACK_WEBHOOK_PATH}`,
      ALERT_DISCORD_WEBHOOK_URL: `http://127.0.0.1:${dead}/api/webhooks/4242/${secrets.ALERT_DISCORD_WEBHOOK_TOKEN}`,
      ALERT_TELEGRAM_BOT_TOKEN: `4242:${secrets.ALERT_TELEGRAM_BOT_TOKEN}`,
      ALERT_TELEGRAM_CHAT_ID: '-1004242',
      TELEGRAM_API_URL: `http://127.0.0.1:${dead}`,
    };
    const outputs: Array<{ where: string; text: string }> = [];
    let logs = '';
    let proc: ChildProcess | undefined;
    try {
      proc = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start'], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      proc.stdout?.on('data', (d: Buffer) => {
        logs += d.toString();
      });
      proc.stderr?.on('data', (d: Buffer) => {
        logs += d.toString();
      });
      const auth = { authorization: `Bearer ${secrets.DASHBOARD_TOKEN}` };
      const get = async (path: string, headers: Record<string, string> = auth) => {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
        const text = await res.text();
        outputs.push({
          where: `GET ${path} (${res.status})`,
          text: `${JSON.stringify([...res.headers])}\n${text}`,
        });
        return { status: res.status, text };
      };
      for (let i = 0; ; i++) {
        try {
          if ((await get('/health')).status === 200) break;
        } catch {
          // not listening yet
        }
        if (i > 400) throw new Error(`the daemon did not start within 20 s:\n${logs.slice(-3000)}`);
        await sleep(50);
      }
      // the sessions are read, the gateway refused us, Mattermost refused us
      for (let i = 0; i < 200; i++) {
        const h = JSON.parse((await get('/health')).text) as {
          sources: Array<{ id: string; state: string }>;
          sinks: Array<{ id: string; failures: number }>;
          sessions: Record<string, number>;
        };
        const gw = h.sources.find((s) => s.id === 'gateway');
        const mmSink = h.sinks.find((s) => s.id === 'mattermost');
        const sessions = Object.values(h.sessions).reduce((a, b) => a + b, 0);
        if (
          gateway.conns.length > 0 &&
          gw?.state !== 'starting' &&
          sessions > 0 &&
          (mmSink?.failures ?? 0) > 0
        )
          break;
        await sleep(100);
      }
      expect(gateway.conns.length).toBeGreaterThan(0);
      expect(mm.log.length).toBeGreaterThan(0);

      // OTLP: a wrong token, then the right one
      for (const token of ['wrong', secrets.OTLP_TOKEN]) {
        const res = await fetch(`http://127.0.0.1:${port}/v1/metrics`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ resourceMetrics: [] }),
        });
        outputs.push({ where: `POST /v1/metrics (${res.status})`, text: await res.text() });
      }
      // the dashboard: no token, a wrong one, the login form with a wrong one, then every route
      await get('/health', {});
      await get('/api/sessions', {});
      await get('/api/sessions', { authorization: 'Bearer wrong' });
      const login = await fetch(`http://127.0.0.1:${port}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'token=wrong',
        redirect: 'manual',
      });
      outputs.push({ where: `POST /login (${login.status})`, text: await login.text() });
      await get('/metrics');
      const list = JSON.parse((await get('/api/sessions')).text) as { sessions?: Array<{ key: string }> };
      for (const s of (list.sessions ?? []).slice(0, 5))
        await get(`/api/sessions/${encodeURIComponent(s.key)}`);
      await get('/api/events?after=0&limit=500');
      const stream = new AbortController();
      const res = await fetch(`http://127.0.0.1:${port}/api/stream`, {
        headers: auth,
        signal: stream.signal,
      });
      const reader = res.body?.getReader();
      const first = await reader?.read();
      outputs.push({ where: 'GET /api/stream', text: Buffer.from(first?.value ?? []).toString() });
      stream.abort();
      await get('/health');

      const status = await run(process.execPath, ['--import', 'tsx', MAIN, 'status', '--json'], {
        env,
      }).catch((err: { stdout?: string; stderr?: string }) => err);
      outputs.push({
        where: 'clawpulse status --json',
        text: `${status.stdout ?? ''}\n${status.stderr ?? ''}`,
      });
      expect(status.stdout).toContain('"running": true');
      // the files as a running daemon has them (the WAL, the PID file), and again after the stop
      for (const f of files(home))
        outputs.push({ where: `${f} (running)`, text: readFileSync(f).toString('latin1') });
    } finally {
      if (proc && proc.exitCode === null) {
        const exited = new Promise((r) => proc?.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      await gateway.close();
      await mm.close();
    }
    outputs.push({ where: 'daemon log (stdout + stderr)', text: logs });
    for (const f of files(home)) outputs.push({ where: f, text: readFileSync(f).toString('latin1') });
    if (process.env.RELIABILITY_SHOW_LOGS) console.log(logs);

    // what must not appear: each value, its pieces, and the forms a leak would take
    const needles: Array<{ name: string; value: string }> = [];
    for (const [name, value] of Object.entries(secrets)) {
      needles.push({ name, value }, { name: `${name} (URL-encoded)`, value: encodeURIComponent(value) });
      const random = value.slice(value.indexOf('-') + 1);
      for (let i = 0; i + 10 <= random.length; i += 5)
        needles.push({ name: `${name} (characters ${i}-${i + 10})`, value: random.slice(i, i + 10) });
    }
    for (const [user, pass] of [
      [lokiUser, secrets.LOKI_PASSWORD],
      [lokiUser, secrets.LOKI_URL_PASSWORD],
    ] as const)
      needles.push({ name: 'Loki Basic auth', value: Buffer.from(`${user}:${pass}`).toString('base64') });
    const leaks: string[] = [];
    for (const o of outputs)
      for (const n of needles) if (o.text.includes(n.value)) leaks.push(`${n.name} in ${o.where}`);

    const logLines = logs.split('\n').filter(Boolean).length;
    const bytes = outputs.reduce((a, o) => a + o.text.length, 0);
    const fileCount = files(home).length;
    const sizes = files(home).reduce((a, f) => a + statSync(f).size, 0);
    console.log(
      `[reliability] secret-scan: ${Object.keys(secrets).length} secrets, ${needles.length} needles, ${outputs.length} outputs (${logLines} log lines, ${fileCount} files of ${(sizes / 1024).toFixed(0)} KiB, ${(bytes / 1024).toFixed(0)} KiB scanned): ${leaks.length} leaks`,
    );
    for (const l of leaks.slice(0, 20)) console.log(`[reliability] secret-scan: leak: ${l}`);
    expect(logLines).toBeGreaterThan(10);
    expect(leaks).toEqual([]);
  }, 120_000);
});
