import { describe, expect, it } from 'vitest';
import type { SessionState } from '../../model/session.js';
import { newSession } from '../../model/state.js';
import { routeSession } from './routing.js';

const CH = 'abcdefghijklmnopqrstuvwxyz';
const ROOT = 'zyxwvutsrqponmlkjihgfedcba';
const DEF = '0123456789abcdefghijklmnop';

function session(key: string, extra: Partial<SessionState> = {}): SessionState {
  return { ...newSession(key, 'main', 0), ...extra };
}

describe('box routing', () => {
  it('reads channel and thread from a Mattermost session key', () => {
    expect(routeSession(session(`agent:main:mattermost:channel:${CH}:thread:${ROOT}`))).toEqual({
      channelId: CH,
      rootId: ROOT,
      via: 'origin',
    });
    expect(routeSession(session(`agent:main:mattermost:channel:${CH}`), DEF)).toEqual({
      channelId: CH,
      via: 'origin',
    });
  });

  it('reads the channel from the key of a session on a named gateway (<gateway>|agent:…)', () => {
    expect(routeSession(session(`build|agent:main:mattermost:channel:${CH}`), DEF)).toEqual({
      channelId: CH,
      via: 'origin',
    });
  });

  it('prefers SessionState.channel with provider mattermost', () => {
    const s = session('agent:main:main', {
      channel: { provider: 'mattermost', channelId: CH, threadId: ROOT },
    });
    expect(routeSession(s, DEF)).toEqual({ channelId: CH, rootId: ROOT, via: 'origin' });
  });

  it('sends other providers and malformed ids to DEFAULT_CHANNEL, or nowhere', () => {
    expect(routeSession(session('agent:main:telegram:direct:42'), DEF)).toEqual({
      channelId: DEF,
      via: 'default',
    });
    expect(routeSession(session('agent:main:telegram:direct:42'))).toBeUndefined();
    expect(routeSession(session('agent:main:mattermost:channel:short'), DEF)).toEqual({
      channelId: DEF,
      via: 'default',
    });
    expect(
      routeSession(session('agent:main:main', { channel: { provider: 'slack', channelId: CH } })),
    ).toBeUndefined();
  });
});
