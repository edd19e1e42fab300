/** Orders sessions for the list: trees (sub-agents under their parent), problems first. */
import type { SessionStatus } from '../../src/model/session.js';
import type { SessionSummary } from '../../src/server/summary.js';
import { STATUS_RANK } from './format.js';

export interface Filters {
  status: SessionStatus | '';
  agent: string;
  /** '' for every host (the fleet view) */
  host?: string;
  /** '' for every gateway (OPENCLAW_GATEWAYS) */
  gateway?: string;
  text: string;
}

/** the filters as /api/sessions takes them (the same rules: `session-list.ts` on the server) */
export function filterQuery(f: Filters): string {
  const q = new URLSearchParams();
  if (f.status) q.set('status', f.status);
  if (f.agent) q.set('agent', f.agent);
  if (f.host) q.set('host', f.host);
  if (f.gateway) q.set('gateway', f.gateway);
  if (f.text.trim()) q.set('q', f.text.trim());
  return q.toString();
}

export interface Row {
  s: SessionSummary;
  depth: number;
  /** shown only because a descendant matches the filters */
  context: boolean;
}

function matches(s: SessionSummary, f: Filters, needle: string): boolean {
  if (f.status && s.status !== f.status) return false;
  if (f.agent && s.agentId !== f.agent) return false;
  if (f.host && s.host !== f.host) return false;
  if (f.gateway && s.gateway !== f.gateway) return false;
  if (!needle) return true;
  const hay = `${s.key} ${s.label ?? ''} ${s.agentId} ${s.host ?? ''} ${s.gateway ?? ''} ${s.channel?.provider ?? ''} ${s.channel?.channelId ?? ''} ${s.lastText ?? ''} ${s.model ?? ''}`;
  return hay.toLowerCase().includes(needle);
}

/** a tree ranks by its most urgent member, so a stuck sub-agent lifts its parent */
function rankOf(s: SessionSummary, kids: Map<string, SessionSummary[]>, seen = new Set<string>()): number {
  if (seen.has(s.key)) return 99;
  seen.add(s.key);
  let r = STATUS_RANK[s.status] ?? 9;
  for (const c of kids.get(s.key) ?? []) r = Math.min(r, rankOf(c, kids, seen));
  return r;
}

export function buildRows(sessions: ReadonlyMap<string, SessionSummary>, f: Filters): Row[] {
  const needle = f.text.trim().toLowerCase();
  const kids = new Map<string, SessionSummary[]>();
  const roots: SessionSummary[] = [];
  for (const s of sessions.values()) {
    if (s.parentKey && s.parentKey !== s.key && sessions.has(s.parentKey)) {
      const list = kids.get(s.parentKey);
      if (list) list.push(s);
      else kids.set(s.parentKey, [s]);
    } else roots.push(s);
  }
  const visible = new Set<string>();
  const matched = new Set<string>();
  for (const s of sessions.values()) {
    if (!matches(s, f, needle)) continue;
    matched.add(s.key);
    // keep the ancestors so a match shows in its tree
    let k: string | undefined = s.key;
    for (let i = 0; k && i < 32 && !visible.has(k); i++) {
      visible.add(k);
      k = sessions.get(k)?.parentKey;
    }
  }
  const ranks = new Map(roots.map((r) => [r.key, rankOf(r, kids)]));
  roots.sort((a, b) => (ranks.get(a.key) ?? 9) - (ranks.get(b.key) ?? 9) || b.lastEventAt - a.lastEventAt);
  const out: Row[] = [];
  const seen = new Set<string>();
  const walk = (s: SessionSummary, depth: number) => {
    if (seen.has(s.key) || depth > 16) return;
    seen.add(s.key);
    if (visible.has(s.key)) out.push({ s, depth, context: !matched.has(s.key) });
    const children = (kids.get(s.key) ?? []).slice().sort((a, b) => a.startedAt - b.startedAt);
    for (const c of children) walk(c, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  // a parent cycle (corrupt data) leaves sessions unreachable from any root: never hide them
  for (const s of sessions.values()) if (!seen.has(s.key)) walk(s, 0);
  return out;
}
