import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactConfig } from './config.js';

describe('config', () => {
  it('starts with nothing set, with the original Live Status defaults', () => {
    const c = loadConfig({ HOME: '/home/u' });
    expect(c.mattermost).toMatchObject({
      throttleMs: 500,
      maxActiveSessions: 20,
      maxMessageChars: 15000,
      breakerThreshold: 5,
      breakerCooldownMs: 30_000,
      pluginEnabled: true,
    });
    expect(c.mattermost.url).toBeUndefined();
    expect(c.model).toMatchObject({
      idleTimeoutMs: 60_000,
      maxSessionDurationMs: 1_800_000,
      maxStatusLines: 15,
    });
    expect(c.http).toMatchObject({ port: 9090, host: '127.0.0.1' });
    expect(c.logLevel).toBe('info');
    expect(c.sources.stateDir).toMatch(/\.openclaw$/);
    expect(c.sources.gatewayUrl).toBe('ws://127.0.0.1:18789');
    expect(Object.isFrozen(c.mattermost)).toBe(true);
  });

  it('reads every variable it is given', () => {
    const c = loadConfig({
      MM_URL: 'https://chat.example.com/',
      MM_TOKEN: 'tok',
      DEFAULT_CHANNEL: 'abcdefghijklmnopqrstuvwxyz',
      THROTTLE_MS: '250',
      IDLE_TIMEOUT_S: '5',
      OPENCLAW_STATE_DIR: '/srv/oc',
      PLUGIN_ENABLED: 'false',
      SOURCES: 'files,sqlite',
      HEALTH_PORT: '0',
    });
    expect(c.mattermost.url).toBe('https://chat.example.com');
    expect(c.mattermost.defaultChannel).toBe('abcdefghijklmnopqrstuvwxyz');
    expect(c.mattermost.throttleMs).toBe(250);
    expect(c.mattermost.pluginEnabled).toBe(false);
    expect(c.model.idleTimeoutMs).toBe(5000);
    expect(c.sources.stateDir).toBe('/srv/oc');
    expect(c.sources.mode).toEqual(['files', 'sqlite']);
    expect(c.http.port).toBe(0);
    expect(c.http.disabled).toBe(true);
  });

  it('HEALTH_PORT: 0 turns HTTP off, any takes a free port; LOG_FORMAT auto by default', () => {
    expect(loadConfig({}).http).toMatchObject({ port: 9090 });
    expect(loadConfig({}).http.disabled).toBeUndefined();
    expect(loadConfig({}).logFormat).toBe('auto');
    const any = loadConfig({ HEALTH_PORT: 'any', LOG_FORMAT: 'json' });
    expect(any.http.port).toBe(0);
    expect(any.http.disabled).toBeUndefined();
    expect(any.logFormat).toBe('json');
    expect(() => loadConfig({ LOG_FORMAT: 'fancy' })).toThrow(
      /LOG_FORMAT="fancy": expected auto, json or pretty/,
    );
    expect(() => loadConfig({ HEALTH_PORT: '-1' })).toThrow(/HEALTH_PORT="-1"/);
  });

  it('names every bad variable, its value and what is expected, in one error', () => {
    let err: unknown;
    try {
      loadConfig({
        THROTTLE_MS: 'fast',
        HEALTH_PORT: '70000',
        LOG_LEVEL: 'loud',
        MM_URL: 'chat',
        MM_TOKEN: 'secret-value',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.map((p) => p.name).sort();
    expect(problems).toEqual(['HEALTH_PORT', 'LOG_LEVEL', 'MM_URL', 'THROTTLE_MS']);
    const msg = (err as Error).message;
    expect(msg).toContain('THROTTLE_MS="fast": expected a whole number from 0 to 600000');
    expect(msg).toContain('HEALTH_PORT="70000"');
    expect(msg).toContain('LOG_LEVEL="loud": expected one of');
    expect(msg).not.toContain('secret-value');
  });

  it('refuses to bind beyond loopback without DASHBOARD_TOKEN', () => {
    expect(() => loadConfig({ HTTP_HOST: '0.0.0.0' })).toThrow(/DASHBOARD_TOKEN/);
    expect(loadConfig({ HTTP_HOST: '0.0.0.0', DASHBOARD_TOKEN: 'x'.repeat(24) }).http.host).toBe('0.0.0.0');
  });

  it('redacts secrets for logging', () => {
    const c = loadConfig({ MM_URL: 'http://mm', MM_TOKEN: 'very-secret', DASHBOARD_TOKEN: 'dash-secret' });
    const text = JSON.stringify(redactConfig(c));
    expect(text).not.toContain('very-secret');
    expect(text).not.toContain('dash-secret');
    expect(text).toContain('[set]');
  });
});
