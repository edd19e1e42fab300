/**
 * `--only-live` (MONITOR_ONLY_LIVE=1): the platform calls an agent online because an upload
 * named it, so with this on only agents that are actually reachable are named: every agent of
 * the config when its gateway answers (one gateway serves them all), else those that had a
 * session event within the interval.
 *
 * The daemon knows both from its gateway connection and its model (src/daemon/monitor.ts); a
 * standalone uploader probes the gateway (one handshake) and looks at the agents' session files
 * (transcripts, sessions.json, the SQLite store and its WAL) for a write within the interval.
 */
import fs from 'node:fs';
import path from 'node:path';
import { withGateway } from '../gateway/connection.js';
import type { Clock } from '../infra/clock.js';
import { silentLogger } from '../infra/logger.js';

export interface LivenessInputs {
  /** whether the gateway answers now */
  gatewayUp(): Promise<boolean>;
  /** the ids (of those given) with a session event at or after `since` (clock ms) */
  recentlyActive(ids: readonly string[], since: number): Set<string>;
  now(): number;
}

export type AgentFilter = (ids: string[], windowMs: number) => Promise<string[]>;

export function onlyLiveFilter(inputs: LivenessInputs): AgentFilter {
  return async (ids, windowMs) => {
    if (await inputs.gatewayUp()) return ids;
    const recent = inputs.recentlyActive(ids, inputs.now() - windowMs);
    return ids.filter((id) => recent.has(id));
  };
}

/** agents whose session files were written at or after `since` (wall-clock ms) */
export function recentlyActiveFromFiles(
  stateDir: string,
  ids: readonly string[],
  since: number,
): Set<string> {
  const out = new Set<string>();
  for (const id of ids) {
    const dirs = [path.join(stateDir, 'agents', id, 'sessions'), path.join(stateDir, 'agents', id, 'agent')];
    if (dirs.some((d) => newestWrite(d) >= since)) out.add(id);
  }
  return out;
}

function newestWrite(dir: string): number {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  let newest = 0;
  for (const n of names) {
    if (!n.endsWith('.jsonl') && n !== 'sessions.json' && !/\.sqlite(-wal)?$/.test(n)) continue;
    try {
      newest = Math.max(newest, fs.statSync(path.join(dir, n)).mtimeMs);
    } catch {
      // gone meanwhile
    }
  }
  return newest;
}

/** one handshake with the gateway (read scope), bounded by timeoutMs */
export function gatewayProbe(o: {
  url: string;
  token?: string;
  stateDir: string;
  clock?: Clock;
  timeoutMs?: number;
}): () => Promise<boolean> {
  return () =>
    withGateway(
      {
        url: o.url,
        token: o.token,
        stateDir: o.stateDir,
        logger: silentLogger,
        clock: o.clock,
        scopes: ['operator.read'],
        timeoutMs: o.timeoutMs ?? 5000,
        name: 'monitor',
      },
      async () => true,
    ).catch(() => false);
}
