import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactConfig } from '../config/config.js';

describe('monitor variables', () => {
  it('default to auto, no token, all agents', () => {
    expect(loadConfig({}).monitor).toEqual({
      platform: 'auto',
      token: undefined,
      url: undefined,
      onlyLive: false,
    });
    expect(
      loadConfig({
        MONITOR_PLATFORM: 'ON',
        MONITOR_PLATFORM_TOKEN: 'tok',
        OPENCLAW_MONITOR_URL: 'https://m.example/',
        MONITOR_ONLY_LIVE: '1',
      }).monitor,
    ).toEqual({ platform: 'on', token: 'tok', url: 'https://m.example', onlyLive: true });
  });

  it('name a bad value, and never show the token', () => {
    try {
      loadConfig({
        MONITOR_PLATFORM: 'maybe',
        MONITOR_ONLY_LIVE: 'sometimes',
        OPENCLAW_MONITOR_URL: 'ftp://x',
      });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).toContain('MONITOR_PLATFORM="maybe": expected auto, on or off');
      expect(msg).toContain('MONITOR_ONLY_LIVE="sometimes"');
      expect(msg).toContain('OPENCLAW_MONITOR_URL="ftp://x"');
    }
    const c = loadConfig({ MONITOR_PLATFORM_TOKEN: 'very-secret-token' });
    expect(JSON.stringify(redactConfig(c))).not.toContain('very-secret-token');
    expect((redactConfig(c) as { monitor: { token: string } }).monitor.token).toBe('[set]');
  });
});
