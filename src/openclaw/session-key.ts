/**
 * OpenClaw session keys (`agent:<agentId>:<rest>`, `cron:<job>`, `hook:<uuid>` ...).
 * The key alone tells the agent, the kind of conversation and, for channel sessions, where it
 * talks (e.g. a Mattermost channel id and thread root), so we read all of that from it.
 */
import type { SessionChannel } from '../model/events.js';

export type SessionKind =
  | 'main'
  | 'subagent'
  | 'channel'
  | 'direct'
  | 'group'
  | 'cron'
  | 'hook'
  | 'acp'
  | 'explicit'
  | 'session'
  | 'global'
  | 'unknown'
  | 'other';

export interface ParsedSessionKey {
  key: string;
  /** from `agent:<id>:...`; undefined for `cron:`/`hook:`/`global` keys */
  agentId?: string;
  kind: SessionKind;
  /** where the session talks, when the key names a channel (provider + chat type + id) */
  channel?: SessionChannel;
  /** number of `:subagent:` segments (0 for non-sub-agents, 2 for a nested spawn) */
  subagentDepth: number;
  /** for nested sub-agent keys: the key of the spawning sub-agent (read from the key itself) */
  parentKeyFromKey?: string;
}

const CHAT_TYPES: Record<string, 'direct' | 'group' | 'channel'> = {
  direct: 'direct',
  dm: 'direct',
  group: 'group',
  channel: 'channel',
};

export function parseSessionKey(key: string): ParsedSessionKey {
  const parts = key.split(':');
  const out: ParsedSessionKey = { key, kind: 'other', subagentDepth: 0 };
  if (parts[0] === 'cron') return { ...out, kind: 'cron' };
  if (parts[0] === 'hook') return { ...out, kind: 'hook' };
  if (key === 'global') return { ...out, kind: 'global' };
  if (key === 'unknown') return { ...out, kind: 'unknown' };
  if (parts[0] !== 'agent' || parts.length < 3 || !parts[1]) return out;

  out.agentId = parts[1];
  const rest = parts.slice(2);

  const subIdx: number[] = [];
  rest.forEach((p, i) => {
    if (p === 'subagent') subIdx.push(i);
  });
  if (subIdx.length) {
    out.kind = 'subagent';
    out.subagentDepth = subIdx.length;
    if (subIdx.length > 1) {
      const last = subIdx[subIdx.length - 1] as number;
      out.parentKeyFromKey = ['agent', parts[1], ...rest.slice(0, last)].join(':');
    }
    return out;
  }

  const head = rest[0] ?? '';
  if (head === 'main' && rest.length === 1) return { ...out, kind: 'main' };
  if (head === 'acp') return { ...out, kind: 'acp' };
  if (head === 'cron') return { ...out, kind: 'cron' };
  if (head === 'hook') return { ...out, kind: 'hook' };
  if (head === 'explicit') return { ...out, kind: 'explicit' };
  if (head === 'session') return { ...out, kind: 'session' };

  // `<provider>[:<account>]:<chatType>:<id>[:thread:<root>]`
  const typeIdx = rest.findIndex((p, i) => i >= 1 && i <= 2 && p in CHAT_TYPES);
  if (typeIdx > 0) {
    const chatType = CHAT_TYPES[rest[typeIdx] as string] as 'direct' | 'group' | 'channel';
    const channel: SessionChannel = { provider: head, chatType };
    if (typeIdx === 2 && rest[1]) channel.accountId = rest[1];
    const id = rest[typeIdx + 1];
    if (id) channel.channelId = id;
    const thrIdx = rest.findIndex((p, i) => i > typeIdx + 1 && (p === 'thread' || p === 'topic'));
    const thread = thrIdx > 0 ? rest[thrIdx + 1] : undefined;
    if (thread) channel.threadId = thread;
    out.kind = chatType;
    out.channel = channel;
    return out;
  }
  // a bare custom main key (`session.mainKey`) is one segment
  if (rest.length === 1) return { ...out, kind: 'main' };
  return out;
}

/** agent id of a key, or undefined when the key has none */
export function agentIdOfKey(key: string): string | undefined {
  return parseSessionKey(key).agentId;
}

/** the key we use for a transcript whose session is not in any session store */
export function fallbackSessionKey(agentId: string, sessionId: string): string {
  return `agent:${agentId}:session:${sessionId}`;
}
