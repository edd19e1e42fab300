/**
 * Gateway frames → PulseEvents. Stateful (per-run buffers, emitted-key memory) but knows
 * nothing about sockets: the client hands it events, subscribe/list rows and history pages.
 */
import type { PulseEvent } from '../../model/events.js';
import { type EventFrame, isObj, num, type Obj, str } from './frames.js';
import { mapAgentEvent } from './map-agent.js';
import { mapMessage } from './map-message.js';
import { mapChat, mapSessionRow, mapTask } from './map-session.js';
import { agentIdOf, createMapperState, getRun, type MapperState, noteSessionId } from './map-state.js';
import { mapSessionTool } from './map-tools.js';

export interface GatewayMapper {
  /** one event frame → the events it means (often none: ticks, health, deltas, duplicates) */
  mapEvent(frame: EventFrame, now: number): PulseEvent[];
  /** rows of a sessions.subscribe / sessions.list result (`{sessions:[...]}` or `{list:{sessions}}`) */
  mapSessionList(
    payload: unknown,
    now: number,
  ): { events: PulseEvent[]; rows: Array<{ key: string; updatedAt?: number }> };
  /**
   * a chat.history page after a reconnect. Messages from before `sinceTs - slackMs` were seen
   * live and are skipped. Within the slack window, token/text keys are message ids (exact
   * duplicates are dropped by key); tool calls are taken only after `sinceTs`, unless the
   * message names its run (2026.9), because without the run id their keys differ from live ones.
   */
  mapHistory(
    sessionKey: string,
    payload: unknown,
    sinceTs: number,
    now: number,
    slackMs?: number,
  ): PulseEvent[];
  stats(): { unmapped: number; duplicatesDropped: number; runs: number };
}

export function createGatewayMapper(o: { maxRuns?: number; maxKeys?: number } = {}): GatewayMapper {
  const st: MapperState = createMapperState(o);

  function take(): PulseEvent[] {
    const out = st.out;
    st.out = [];
    return out;
  }

  return {
    mapEvent(frame, now) {
      const p = frame.payload;
      if (!isObj(p)) return [];
      switch (frame.event) {
        case 'agent':
          mapAgentEvent(st, p, now);
          break;
        case 'session.tool':
          sessionTool(st, p, now);
          break;
        case 'session.message': {
          const sessionKey = str(p.sessionKey);
          if (sessionKey && isObj(p.message)) {
            noteSessionId(st, sessionKey, p.sessionId);
            const messageId = str(p.messageId);
            mapMessage(st, sessionKey, p.agentId, p.message, now, {
              tools: false,
              ...(messageId ? { messageId } : {}),
            });
          }
          break;
        }
        case 'sessions.changed':
          mapSessionRow(st, p, now);
          break;
        case 'chat':
          mapChat(st, p, now);
          break;
        case 'task':
          mapTask(st, p, now);
          break;
        default:
          break;
      }
      return take();
    },

    mapSessionList(payload, now) {
      const rows: Array<{ key: string; updatedAt?: number }> = [];
      const list = isObj(payload) && isObj(payload.list) ? payload.list : payload;
      const sessions = isObj(list) && Array.isArray(list.sessions) ? list.sessions : [];
      for (const r of sessions) {
        if (!isObj(r)) continue;
        const key = str(r.key) ?? str(r.sessionKey);
        if (!key) continue;
        const updatedAt = num(r.updatedAt);
        rows.push(updatedAt === undefined ? { key } : { key, updatedAt });
        mapSessionRow(st, r, now);
      }
      return { events: take(), rows };
    },

    mapHistory(sessionKey, payload, sinceTs, now, slackMs = 30_000) {
      const messages = isObj(payload) && Array.isArray(payload.messages) ? payload.messages : [];
      if (isObj(payload)) noteSessionId(st, sessionKey, payload.sessionId);
      const callRuns = new Map<string, string>();
      for (const m of messages) {
        if (!isObj(m)) continue;
        const meta = isObj(m.__openclaw) ? m.__openclaw : {};
        const ts = num(m.timestamp) ?? num(meta.recordTimestampMs);
        if (ts !== undefined && ts <= sinceTs - slackMs) continue;
        const tools = ts === undefined || ts > sinceTs || str(meta.runId) !== undefined;
        mapMessage(st, sessionKey, undefined, m as Obj, now, { tools, callRuns });
      }
      return take();
    },

    stats: () => ({ ...st.counters, runs: st.runs.size }),
  };
}

function sessionTool(st: MapperState, p: Obj, now: number): void {
  const runId = str(p.runId);
  const sessionKey = str(p.sessionKey) ?? (runId ? st.runs.get(runId)?.sessionKey : undefined);
  const data = isObj(p.data) ? p.data : undefined;
  if (!runId || !sessionKey || !data) {
    st.counters.unmapped++;
    return;
  }
  const run = getRun(st, runId, sessionKey, agentIdOf(st, sessionKey, p.agentId));
  mapSessionTool({ st, run, ts: num(p.ts) ?? now }, data);
}
