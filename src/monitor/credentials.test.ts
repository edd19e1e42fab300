import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/temp-dir.js';
import {
  CredentialsError,
  readCredentials,
  resolveSettings,
  updateCredentials,
  writeCredentials,
} from './credentials.js';
import { monitorPaths } from './paths.js';

describe('credentials file', () => {
  it('lives where the original kept it, under the state dir', () => {
    const p = monitorPaths('/s');
    expect(p.credentials).toBe('/s/credentials/openclaw-status-monitor.json');
    expect(p.log).toBe('/s/logs/status_uploader.log');
    expect(p.errorLog).toBe('/s/logs/status_uploader_error.log');
    expect(p.pid).toBe('/s/logs/status_uploader.pid');
  });

  it('is written with mode 0600 (a looser file from the original is tightened) and keeps unknown fields', () => {
    const file = path.join(tempDir('clawpulse-cred-'), 'credentials', 'openclaw-status-monitor.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ agentToken: 't', extra: 1 }), { mode: 0o644 });
    updateCredentials(file, { syncIntervalMinutes: 10 });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(readCredentials(file)).toEqual({ agentToken: 't', extra: 1, syncIntervalMinutes: 10 });
    writeCredentials(file, { agentToken: 'u' });
    expect(readCredentials(file)).toEqual({ agentToken: 'u' });
    expect(fs.readdirSync(path.dirname(file))).toEqual(['openclaw-status-monitor.json']);
  });

  it('creates its folder 0700', () => {
    const file = path.join(tempDir('clawpulse-cred-'), 'credentials', 'openclaw-status-monitor.json');
    writeCredentials(file, { agentToken: 't' });
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });

  it('says what is wrong with a broken file; a missing one is undefined', () => {
    const dir = tempDir('clawpulse-cred-');
    expect(readCredentials(path.join(dir, 'none.json'))).toBeUndefined();
    fs.writeFileSync(path.join(dir, 'bad.json'), '{nope');
    expect(() => readCredentials(path.join(dir, 'bad.json'))).toThrow(CredentialsError);
    fs.writeFileSync(path.join(dir, 'arr.json'), '[]');
    expect(() => readCredentials(path.join(dir, 'arr.json'))).toThrow(/not a JSON object/);
  });

  it('takes MONITOR_PLATFORM_TOKEN first, then agentToken; the URL and the interval from the file or defaults', () => {
    const file = '/x.json';
    expect(resolveSettings({ file })).toEqual({
      token: undefined,
      tokenOrigin: undefined,
      url: 'https://openclaw-agent-monitor.vercel.app',
      intervalMinutes: 5,
    });
    const credentials = { agentToken: 'f', monitorUrl: 'http://m.example/', syncIntervalMinutes: 15 };
    expect(resolveSettings({ file, credentials })).toEqual({
      token: 'f',
      tokenOrigin: file,
      url: 'http://m.example',
      intervalMinutes: 15,
    });
    expect(resolveSettings({ file, credentials, envToken: 'e', envUrl: 'https://o.example' })).toMatchObject({
      token: 'e',
      tokenOrigin: 'MONITOR_PLATFORM_TOKEN',
      url: 'https://o.example',
    });
    expect(
      resolveSettings({ file, credentials: { monitorUrl: 'ftp://x', syncIntervalMinutes: -1 } }),
    ).toMatchObject({ url: 'https://openclaw-agent-monitor.vercel.app', intervalMinutes: 5 });
  });
});
