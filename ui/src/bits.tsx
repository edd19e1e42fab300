/** Small shared pieces: the status badge and a ticking elapsed clock. */
import type { SessionStatus } from '../../src/model/session.js';
import { shortKey } from '../../src/render/format.js';
import { type SessionSummary, stuckNote } from '../../src/server/summary.js';
import { fmtDuration } from './format.js';
import { useNow } from './hooks.js';

export function Badge({ status }: { status: SessionStatus }) {
  return <span className={`badge st-${status}`}>{status}</span>;
}

function Ticking({ from, offsetMs }: { from: number; offsetMs: number }) {
  const now = useNow();
  return <>{fmtDuration(now + offsetMs - from)}</>;
}

/** elapsed of the current turn; ticks (in server time) while the session runs */
export function Elapsed({ s, offsetMs }: { s: SessionSummary; offsetMs: number }) {
  const from = s.activeSince ?? s.startedAt;
  const running = s.endedAt === undefined && (s.status === 'active' || s.status === 'stuck');
  return (
    <span className="elapsed" data-testid="elapsed">
      {running ? (
        <Ticking from={from} offsetMs={offsetMs} />
      ) : (
        fmtDuration((s.endedAt ?? s.lastEventAt) - from)
      )}
    </span>
  );
}

export function channelText(s: Pick<SessionSummary, 'channel'>): string {
  const c = s.channel;
  if (!c) return '';
  const id = c.channelId ? `#${c.channelId.length > 10 ? `${c.channelId.slice(0, 8)}…` : c.channelId}` : '';
  return `${c.provider ?? ''}${id}`;
}

/** the label, else the key without `agent:<id>:` (the agent shows beside it); the full key goes in a title */
export function sessionTitle(s: Pick<SessionSummary, 'label' | 'key'>): string {
  return s.label || shortKey(s.key);
}

/**
 * a stuck session's note with its real, ticking age ("no activity for 1m08s"), not the age it
 * had when it went stuck; other notes as they are
 */
export function LiveNote({ s, offsetMs }: { s: SessionSummary; offsetMs: number }) {
  if (s.status !== 'stuck') return <>{s.note ?? ''}</>;
  return <StuckAge s={s} offsetMs={offsetMs} />;
}

function StuckAge({ s, offsetMs }: { s: SessionSummary; offsetMs: number }) {
  const now = useNow();
  return (
    <span data-testid="stuck-age">{stuckNote(s.note, Math.max(0, now + offsetMs - s.lastEventAt))}</span>
  );
}
