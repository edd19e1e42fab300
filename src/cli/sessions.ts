/**
 * `clawpulse sessions [--json]`: the sessions clawpulse knows. While a daemon (or the demo)
 * runs, from its API (its live view: one source of truth); otherwise from the store (snapshots
 * plus the events stored after them), saying so on stderr. `--json` has one shape either way
 * (the replay JSON view, plus `source`).
 */
import type { Config } from '../config/config.js';
import { formatDuration } from '../model/format.js';
import type { SessionState, ToolCallState } from '../model/session.js';
import { createSessionTracker } from '../model/tracker.js';
import { restoreModel } from '../pipeline.js';
import { elapsedMs, formatCostMarked, formatTokens } from '../render/format.js';
import { toReplayJson } from '../render/json-view.js';
import type { SessionDetail, SessionSummary, SessionToolsPage } from '../server/summary.js';
import { openStore, storeExists, storeName } from '../store/open-store.js';
import { type DaemonLink, findDaemon, getJson } from './daemon-link.js';

/** all of a session's tool calls (the detail carries only the newest), oldest first, 500 a page */
async function allTools(
  link: DaemonLink,
  config: Readonly<Config>,
  key: string,
  total: number,
): Promise<ToolCallState[]> {
  const pages: ToolCallState[][] = [];
  let before: number | null = total;
  while (before !== null) {
    const r: { status: number; body: SessionToolsPage } = await getJson<SessionToolsPage>(
      link,
      config,
      `/api/sessions/${encodeURIComponent(key)}/tools?before=${before}&limit=500`,
    );
    if (r.status !== 200) break;
    pages.unshift(r.body.tools);
    before = r.body.before;
  }
  return pages.flat();
}

/**
 * Every session of the daemon's live view, as full states: each root's tree in one request,
 * the sessions its tree did not carry one by one, and the tool calls of those the detail cut
 * to the newest ones page by page.
 */
async function fromDaemon(link: DaemonLink, config: Readonly<Config>): Promise<SessionState[]> {
  // the list comes in pages (nextCursor); a daemon from before paging answers with them all
  const list: SessionSummary[] = [];
  let cursor: string | null | undefined = '';
  for (let n = 0; cursor !== null && cursor !== undefined && n < 1000; n++) {
    const path: string = `/api/sessions?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r: { body: { sessions: SessionSummary[]; nextCursor?: string | null } } = await getJson(
      link,
      config,
      path,
    );
    list.push(...r.body.sessions);
    cursor = r.body.nextCursor;
  }
  const keys = new Set(list.map((s) => s.key));
  const roots = list.filter((s) => !s.parentKey || !keys.has(s.parentKey)).map((s) => s.key);
  const states = new Map<string, SessionState>();
  const cut = new Map<string, number>();
  const queue = [...roots];
  const worker = async () => {
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
      if (states.has(key)) continue;
      const r = await getJson<SessionDetail>(link, config, `/api/sessions/${encodeURIComponent(key)}`);
      if (r.status !== 200) continue; // left the live view meanwhile
      for (const s of r.body.states) {
        if (!keys.has(s.key) || states.has(s.key)) continue;
        states.set(s.key, s);
        const total = r.body.toolTotals?.[s.key] ?? 0;
        if (total > s.tools.length) cut.set(s.key, total);
      }
    }
  };
  const workers = (n: number, fn: () => Promise<void>) => Promise.all(Array.from({ length: n }, fn));
  await workers(4, worker);
  // sessions no root's tree carried (trees are sent up to a size): one by one
  for (const k of keys) if (!states.has(k)) queue.push(k);
  await workers(4, worker);
  const toFill = [...cut.keys()];
  await workers(4, async () => {
    for (let k = toFill.shift(); k !== undefined; k = toFill.shift()) {
      const s = states.get(k);
      if (s) s.tools = await allTools(link, config, k, cut.get(k) ?? s.tools.length);
    }
  });
  return [...states.values()];
}

function fromStore(config: Readonly<Config>): SessionState[] | undefined {
  if (!storeExists(config)) return undefined;
  const store = openStore(config, { role: 'cli' });
  // snapshots plus the events stored after them: what the daemon's model held
  const tracker = createSessionTracker(config.model);
  try {
    restoreModel(store, tracker);
  } finally {
    store.close();
  }
  return tracker.all();
}

export interface SessionFilter {
  /** only the sessions of this gateway (OPENCLAW_GATEWAYS name) */
  gateway?: string;
}

export async function listSessions(
  config: Readonly<Config>,
  json: boolean,
  filter: SessionFilter = {},
  now = Date.now(),
): Promise<number> {
  const link = findDaemon(config);
  let sessions: SessionState[] | undefined;
  let source: 'daemon' | 'store' = 'store';
  if (link?.url) {
    try {
      sessions = await fromDaemon(link, config);
      source = 'daemon';
    } catch (err) {
      process.stderr.write(
        `clawpulse: the running ${link.kind} (pid ${link.pid}) did not answer (${(err as Error).message}); reading the store\n`,
      );
    }
  }
  if (!sessions) {
    if (!link) process.stderr.write(`clawpulse: no daemon running: reading the store ${storeName(config)}\n`);
    else if (!link.url)
      process.stderr.write(
        `clawpulse: the running ${link.kind} has no HTTP (HEALTH_PORT=0): reading the store ${storeName(config)}\n`,
      );
    sessions = fromStore(config);
    if (!sessions) {
      if (json) process.stdout.write(`${JSON.stringify({ source, sessions: [] })}\n`);
      else process.stdout.write(`no store yet at ${storeName(config)} (start clawpulse first)\n`);
      return 0;
    }
  }
  if (filter.gateway !== undefined) sessions = sessions.filter((s) => s.gateway === filter.gateway);
  if (json) {
    process.stdout.write(`${JSON.stringify({ source, ...toReplayJson(sessions) }, null, 2)}\n`);
    return 0;
  }
  if (!sessions.length) {
    const none = filter.gateway !== undefined ? `no sessions on gateway ${filter.gateway}` : 'no sessions';
    process.stdout.write(source === 'daemon' ? `${none} yet\n` : `${none} stored yet\n`);
    return 0;
  }
  // the GATEWAY column once any session lives on a named gateway (OPENCLAW_GATEWAYS)
  const gateways = sessions.some((s) => s.gateway !== undefined);
  sessions.sort((a, b) => b.lastEventAt - a.lastEventAt);
  const rows = sessions.map((s) => [
    s.status.toUpperCase(),
    ...(gateways ? [s.gateway ?? '-'] : []),
    s.key,
    s.label ?? '',
    formatDuration(elapsedMs(s, now)),
    formatTokens(s.tokens.total),
    formatCostMarked(s.costUsd, s.costEstimated) || '$0',
    s.parentKey ? `↳ ${s.parentKey}` : '',
  ]);
  const head = [
    'STATUS',
    ...(gateways ? ['GATEWAY'] : []),
    'SESSION',
    'LABEL',
    'ELAPSED',
    'TOKENS',
    'COST',
    'PARENT',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(head), ...rows.map(line)].join('\n')}\n`);
  return 0;
}
