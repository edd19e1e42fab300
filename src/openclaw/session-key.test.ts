import { describe, expect, it } from 'vitest';
import { agentIdFromPath, isLiveTranscriptName, parseTranscriptName } from './paths.js';
import { parseSessionKey } from './session-key.js';
import { channelOf, normalizeSessionEntry } from './sessions-json.js';

const MM = 'h7x3k9q2mbf8zjw1r5t6yc4d0e';
const ROOT = 'p1x3k9q2mbf8zjw1r5t6yc4d0e';

describe('parseSessionKey', () => {
  it('reads kinds and agent ids', () => {
    expect(parseSessionKey('agent:main:main')).toMatchObject({ agentId: 'main', kind: 'main' });
    expect(parseSessionKey('agent:ops:subagent:1234')).toMatchObject({
      agentId: 'ops',
      kind: 'subagent',
      subagentDepth: 1,
    });
    expect(parseSessionKey('cron:job1').kind).toBe('cron');
    expect(parseSessionKey('hook:abc').kind).toBe('hook');
    expect(parseSessionKey('agent:main:acp:u').kind).toBe('acp');
    expect(parseSessionKey('global').kind).toBe('global');
    expect(parseSessionKey('weird').agentId).toBeUndefined();
  });
  it('nested sub-agents name their parent', () => {
    expect(parseSessionKey('agent:main:subagent:a:subagent:b')).toMatchObject({
      subagentDepth: 2,
      parentKeyFromKey: 'agent:main:subagent:a',
    });
  });
  it('mattermost channel + thread, account-qualified DMs', () => {
    expect(parseSessionKey(`agent:main:mattermost:channel:${MM}:thread:${ROOT}`)).toMatchObject({
      kind: 'channel',
      channel: { provider: 'mattermost', chatType: 'channel', channelId: MM, threadId: ROOT },
    });
    expect(parseSessionKey('agent:main:telegram:default:direct:42')).toMatchObject({
      kind: 'direct',
      channel: { provider: 'telegram', accountId: 'default', chatType: 'direct', channelId: '42' },
    });
  });
});

describe('sessions.json channel', () => {
  it('reads the channel from deliveryContext / lastTo when the key has none', () => {
    expect(
      channelOf('agent:main:main', {
        lastChannel: 'mattermost',
        lastTo: `channel:${MM}`,
        lastThreadId: ROOT,
      }),
    ).toEqual({
      provider: 'mattermost',
      channelId: MM,
      threadId: ROOT,
      chatType: 'channel',
    });
    expect(
      channelOf('agent:main:main', {
        deliveryContext: { channel: 'mattermost', to: `channel:${MM}`, accountId: 'default' },
      }),
    ).toMatchObject({ channelId: MM, accountId: 'default' });
  });
  it('skips entries without sessionId', () => {
    expect(normalizeSessionEntry('agent:main:main', { updatedAt: 1 })).toBeUndefined();
  });
});

describe('transcript file names', () => {
  it('accepts live transcripts only', () => {
    const id = '98b47024-154f-495f-95d6-aaedbec7b8ed';
    expect(parseTranscriptName(`${id}.jsonl`)).toEqual({ sessionId: id });
    expect(parseTranscriptName(`${id}-topic-7.jsonl`)).toEqual({ sessionId: id, topic: '7' });
    for (const bad of [
      `${id}.trajectory.jsonl`,
      `${id}.trajectory-path.json`,
      `${id}.jsonl.lock`,
      `${id}.jsonl.reset.2026-02-22T10-15-30.123Z`,
      `${id}.jsonl.deleted.2026-02-22T10-15-30.123Z`,
      `${id}.jsonl.bak.x`,
      `${id}.jsonl.bak.x.zst`,
      `${id}.checkpoint.1.jsonl`,
      'sessions.json',
    ])
      expect(isLiveTranscriptName(bad), bad).toBe(false);
  });
  it('reads the agent from the path', () => {
    expect(agentIdFromPath('/s/agents/ops/sessions/x.jsonl')).toBe('ops');
    expect(agentIdFromPath('/tmp/x.jsonl')).toBeUndefined();
  });
});

describe('non-transcript jsonl files', () => {
  it('are not followed', () => {
    expect(isLiveTranscriptName('fake-model-requests-run1.jsonl')).toBe(false);
    expect(isLiveTranscriptName('ws-frames.jsonl')).toBe(false);
    expect(parseTranscriptName('deadbeef.jsonl')).toEqual({ sessionId: 'deadbeef' });
  });
});
