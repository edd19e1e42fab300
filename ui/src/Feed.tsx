/** The live feed: the newest events across every session, newest on top. */
import { memo, useMemo } from 'react';
import type { PulseEvent } from '../../src/model/events.js';
import { shortKey } from '../../src/render/format.js';
import type { SessionSummary } from '../../src/server/summary.js';
import { sessionTitle } from './bits.js';
import { fmtCostMarked, fmtMs, fmtTime, fmtTokens } from './format.js';
import type { FeedItem } from './live.js';

export function describe(e: PulseEvent): { tag: string; text: string; tone?: 'err' | 'ok' | 'warn' } {
  switch (e.type) {
    case 'session.seen':
      return { tag: 'session', text: e.label ?? e.displayName ?? 'seen' };
    case 'agent.started':
      return { tag: 'run', text: 'started' };
    case 'agent.finished':
      return {
        tag: 'run',
        text: e.outcome === 'ok' ? 'finished' : `${e.outcome}${e.error ? `: ${e.error}` : ''}`,
        tone: e.outcome === 'ok' ? 'ok' : 'err',
      };
    case 'agent.step_started':
      return { tag: 'step', text: `model call ${e.step ?? ''} ${e.model ?? ''}`.trim() };
    case 'assistant.text':
      return { tag: 'says', text: e.text };
    case 'tool.call':
      return { tag: 'tool', text: `${e.name}${e.args ? `: ${e.args}` : ''}` };
    case 'tool.output':
      return { tag: 'tool', text: `${e.name} ok ${fmtMs(e.durationMs)}`.trim(), tone: 'ok' };
    case 'tool.error':
      return { tag: 'tool', text: `${e.name} failed: ${e.error}`, tone: 'err' };
    case 'subagent.spawned':
      return { tag: 'spawn', text: e.label ?? shortKey(e.childKey) };
    case 'subagent.finished':
      return {
        tag: 'spawn',
        text: `${shortKey(e.childKey)} ${e.outcome ?? 'finished'}`,
        tone: e.outcome === 'error' ? 'err' : undefined,
      };
    case 'llm.tokens':
      return {
        tag: 'tokens',
        // a cost priced from the price table (the source gave none) says so, as everywhere
        text: `+${fmtTokens(e.input + e.output + e.cacheRead + e.cacheWrite + e.reasoning)} · ${fmtCostMarked(e.costUsd, e.costEstimated)}`,
      };
    case 'llm.error':
      return { tag: 'llm', text: `${e.status ?? ''} ${e.message}`.trim(), tone: 'err' };
    case 'session.compacted':
      return { tag: 'session', text: 'compacted' };
    case 'session.reset':
      return { tag: 'session', text: 'reset' };
    case 'session.stuck':
      return { tag: 'stuck', text: e.reason ?? 'no progress', tone: 'warn' };
    default:
      return { tag: 'event', text: (e as { type: string }).type };
  }
}

/**
 * session.seen repeats every time sessions.json moves: the feed keeps the first sighting of a
 * session (it says a session appeared) and drops the rest as bookkeeping
 */
function withoutRepeats(feed: readonly FeedItem[]): FeedItem[] {
  const seen = new Set<string>();
  const out: FeedItem[] = [];
  for (const it of feed) {
    if (!('gap' in it) && it.event.type === 'session.seen') {
      if (seen.has(it.event.sessionKey)) continue;
      seen.add(it.event.sessionKey);
    }
    out.push(it);
  }
  return out;
}

export function Feed(props: {
  feed: readonly FeedItem[];
  sessions: ReadonlyMap<string, SessionSummary>;
  onSelect: (key: string) => void;
}) {
  const items = useMemo(() => withoutRepeats(props.feed).slice(-150).reverse(), [props.feed]);
  return (
    <div className="feed-wrap">
      <h2 className="pane-title">Live feed</h2>
      {!items.length && <div className="empty">Waiting for events…</div>}
      <ol className="feed" data-testid="feed">
        {items.map((it) => (
          <FeedRow
            key={'gap' in it ? `gap-${it.seq}` : it.seq}
            item={it}
            who={
              'gap' in it
                ? ''
                : sessionTitle({
                    key: it.event.sessionKey,
                    label: props.sessions.get(it.event.sessionKey)?.label,
                  })
            }
            onSelect={props.onSelect}
          />
        ))}
      </ol>
    </div>
  );
}

// `who` is the label string, not the summary: a busy session's summary changes on every
// event, and passing it would re-render all of its rows each time
const FeedRow = memo(function FeedRow({
  item,
  who,
  onSelect,
}: {
  item: FeedItem;
  who: string;
  onSelect: (key: string) => void;
}) {
  if ('gap' in item) {
    return <li className="feed-gap">… {item.gap.to - item.gap.from + 1} older events not replayed</li>;
  }
  const e = item.event;
  const d = describe(e);
  return (
    <li className={`feed-row${d.tone ? ` tone-${d.tone}` : ''}`} data-seq={item.seq}>
      <time>{fmtTime(e.ts)}</time>
      <button type="button" className="feed-who" onClick={() => onSelect(e.sessionKey)} title={e.sessionKey}>
        {who}
      </button>
      <span className={`tag tag-${d.tag}`}>{d.tag}</span>
      <span className="feed-text">{d.text}</span>
    </li>
  );
});
