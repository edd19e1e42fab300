/**
 * Where a session's status box goes. Only root sessions get a box (a sub-agent is shown
 * nested in its root's box). A session that talks in Mattermost gets its box in that channel
 * and thread; any other session goes to DEFAULT_CHANNEL when set, else gets no box.
 */
import type { SessionChannel } from '../../model/events.js';
import type { SessionState } from '../../model/session.js';
import { openclawKey } from '../../model/session-scope.js';
import { parseSessionKey } from '../../openclaw/session-key.js';

export interface BoxRoute {
  channelId: string;
  /** thread root post id (Mattermost root_id); undefined for a top-level post */
  rootId?: string;
  /** 'origin' = the session's own Mattermost channel; 'default' = DEFAULT_CHANNEL */
  via: 'origin' | 'default';
}

const MM_ID = /^[a-z0-9]{26}$/;

/** the Mattermost channel and thread a session talks in, when it talks in Mattermost (also the alerts' route) */
export function fromChannel(ch: SessionChannel | undefined): BoxRoute | undefined {
  if (ch?.provider?.toLowerCase() !== 'mattermost' || !ch.channelId) return undefined;
  const channelId = ch.channelId.toLowerCase();
  if (!MM_ID.test(channelId)) return undefined;
  const thread = ch.threadId?.toLowerCase();
  return { channelId, ...(thread && MM_ID.test(thread) ? { rootId: thread } : {}), via: 'origin' };
}

/** the box route of a root session, or undefined when it gets no box */
export function routeSession(root: SessionState, defaultChannel?: string): BoxRoute | undefined {
  const route = fromChannel(root.channel) ?? fromChannel(parseSessionKey(openclawKey(root.key)).channel);
  if (route) return route;
  return defaultChannel ? { channelId: defaultChannel, via: 'default' } : undefined;
}
