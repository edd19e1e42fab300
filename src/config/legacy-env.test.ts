import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { withLegacyNames } from './legacy-env.js';

describe('the original Live Status variable names', () => {
  it('count when clawpulse’s own names are unset', () => {
    const c = loadConfig({
      MM_BOT_TOKEN: 'bot-token',
      MM_BASE_URL: 'https://chat.example.com/',
      MM_CHANNEL_ID: 'abcdefghijklmnopqrstuvwxyz',
      PID_FILE: '/tmp/status-watcher.pid',
    });
    expect(c.mattermost).toMatchObject({
      token: 'bot-token',
      url: 'https://chat.example.com',
      defaultChannel: 'abcdefghijklmnopqrstuvwxyz',
    });
    expect(c.pidFile).toBe('/tmp/status-watcher.pid');
  });

  it('lose to the new names, and leave the env alone when there is nothing to map', () => {
    const env = { MM_TOKEN: 'new', MM_BOT_TOKEN: 'old', MM_URL: 'https://new.example.com' };
    expect(withLegacyNames(env)).toMatchObject({ MM_TOKEN: 'new', MM_URL: 'https://new.example.com' });
    expect(env).not.toHaveProperty('MM_CHANNEL_ID');
    const plain = { HOME: '/h' };
    expect(withLegacyNames(plain)).toBe(plain);
  });
});
