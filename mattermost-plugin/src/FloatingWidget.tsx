/**
 * A small always-on-top card (root component) that appears while any agent session runs and
 * hides HIDE_AFTER_MS after the last one ends. Like the original Live Status widget it shows the
 * busiest session in full (agent name, elapsed time and cost, its last 5 status lines; a click jumps to
 * its box) above the other sessions. It can be dragged anywhere and folded into a dot showing
 * the number of running sessions that pulses while anything runs (not with reduced motion);
 * position and fold are remembered in localStorage.
 */
import * as React from 'react';
import type { Clock } from './clock.js';
import type { PluginDeps } from './deps.js';
import { ESTIMATED_COST_TITLE, elapsedMs, formatCostMarked, formatDuration } from './format.js';
import { useNow, useSessions } from './hooks.js';
import { SessionRow } from './SessionRow.js';
import { busiest, type SessionSummary } from './sessions.js';
import { isStale, staleText } from './stale.js';
import { MONO, type Palette, paletteFor, statusColor } from './theme.js';
import type { MmTheme } from './types.js';
import { isLive } from './validate.js';
import { clampPosition, loadWidgetPrefs, saveWidgetPrefs, type WidgetPrefs } from './widget-prefs.js';

export const HIDE_AFTER_MS = 5000;
const MAX_ROWS = 6;
const DRAG_THRESHOLD_PX = 3;
const WIDTH = 280;
const DOT = 40;

export interface FloatingWidgetProps {
  deps: PluginDeps;
  theme?: MmTheme | null;
  clock?: Clock;
}

const PULSE_CSS = `
@keyframes clawpulse-ls-pulse {
  0% { transform: scale(1); opacity: 1; }
  50% { transform: scale(1.9); opacity: 0.25; }
  100% { transform: scale(1); opacity: 1; }
}
.clawpulse-ls-pulse { animation: clawpulse-ls-pulse 1.4s ease-in-out infinite; }
@media (prefers-reduced-motion: reduce) { .clawpulse-ls-pulse { animation: none; } }
`;

function PulseStyle() {
  return <style data-testid="ls-widget-style">{PULSE_CSS}</style>;
}

function lineColor(p: Palette, status: string | undefined): string {
  if (status === 'ok' || status === 'done') return p.ok;
  if (status === 'error' || status === 'interrupted') return p.error;
  if (status === 'running' || status === 'active') return p.warn;
  return p.fg;
}

/** The busiest session in full: agent, label, elapsed time and its last status lines. */
function Busiest(props: { s: SessionSummary; palette: Palette; now: number; onOpen(postId: string): void }) {
  const { s, palette } = props;
  const stale = isStale(s.status, s.updatedAt, s.staleAfterMs, props.now);
  const end = stale ? s.updatedAt : props.now;
  const cost = formatCostMarked(s.costUsd, s.costEstimated);
  return (
    <button
      type="button"
      data-testid="ls-widget-busiest"
      data-session-key={s.sessionKey}
      data-stale={stale ? 'true' : 'false'}
      title="Open the status box in its thread"
      onClick={() => props.onOpen(s.postId)}
      style={{
        all: 'unset',
        boxSizing: 'border-box',
        display: 'block',
        width: '100%',
        cursor: 'pointer',
        padding: '6px 8px',
        borderBottom: `1px solid ${palette.border}`,
      }}
    >
      <div style={{ display: 'flex', gap: 6, alignItems: 'baseline' }}>
        <span data-testid="ls-widget-agent" style={{ fontWeight: 700 }}>
          {s.agentId || s.label}
        </span>
        {s.agentId && s.label !== s.agentId ? (
          <span
            style={{ color: palette.dim, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}
          >
            {s.label}
          </span>
        ) : null}
        <span data-testid="ls-widget-elapsed" style={{ marginLeft: 'auto', color: palette.dim }}>
          {formatDuration(elapsedMs(s.startedAt, s.endedAt, end, s.updatedAt))}
        </span>
        {cost ? (
          <span
            data-testid="ls-widget-cost"
            data-estimated={s.costEstimated ? 'true' : undefined}
            title={s.costEstimated ? ESTIMATED_COST_TITLE : undefined}
            style={{ color: palette.dim, whiteSpace: 'nowrap' }}
          >
            {cost}
          </span>
        ) : null}
      </div>
      <div style={{ fontFamily: MONO, fontSize: 11.5, lineHeight: 1.45, marginTop: 3 }}>
        {s.lastLines.map((l, i) => (
          <div
            // biome-ignore lint/suspicious/noArrayIndexKey: the last lines of one box, in order
            key={i}
            data-testid="ls-widget-line"
            style={{
              color: l.kind === 'system' ? palette.dim : lineColor(palette, l.status),
              whiteSpace: 'nowrap',
              overflow: 'hidden',
              textOverflow: 'ellipsis',
            }}
          >
            {l.kind === 'tool' ? '› ' : l.kind === 'child' ? '↳ ' : ''}
            {l.text}
          </div>
        ))}
      </div>
      {stale ? (
        <div data-testid="ls-widget-stale" style={{ color: palette.warn, fontSize: 12, marginTop: 3 }}>
          {staleText(s.updatedAt, props.now)}
        </div>
      ) : (
        <div style={{ color: statusColor(palette, s.status), fontSize: 11, marginTop: 2 }}>{s.status}</div>
      )}
    </button>
  );
}

interface Drag {
  pointerId: number;
  startX: number;
  startY: number;
  originX: number;
  originY: number;
  moved: boolean;
}

export function FloatingWidget(props: FloatingWidgetProps) {
  const { deps } = props;
  const clock = props.clock ?? deps.clock;
  const palette = paletteFor(props.theme);
  const sessions = useSessions(deps);
  const live = sessions.filter((s) => isLive(s.status));
  const hasLive = live.length > 0;
  const [visible, setVisible] = React.useState(false);
  const [prefs, setPrefs] = React.useState<WidgetPrefs>(() => loadWidgetPrefs());
  const shown = React.useRef(new Set<string>());
  const drag = React.useRef<Drag | null>(null);
  const box = React.useRef<HTMLElement | null>(null);
  /** set when a drag ends, so the click that follows it does not unfold the dot */
  const dragged = React.useRef(false);
  const now = useNow(clock, 1000, hasLive && visible);

  // Visible while something runs; once the last session ends, stay HIDE_AFTER_MS so the
  // final status can be read, unless new activity cancels the timer.
  React.useEffect(() => {
    if (hasLive) {
      setVisible(true);
      return;
    }
    if (!visible) return;
    const handle = clock.setTimeout(() => setVisible(false), HIDE_AFTER_MS);
    return () => clock.clearTimeout(handle);
  }, [hasLive, visible, clock]);

  React.useEffect(() => {
    if (!visible) shown.current.clear();
  }, [visible]);

  if (!visible && !hasLive) return null;
  // Sessions seen running during this appearance stay listed (with their final status).
  for (const s of live) shown.current.add(s.sessionKey);
  const top = busiest(sessions, now);
  const rows = sessions
    .filter((s) => shown.current.has(s.sessionKey) && s.sessionKey !== top?.sessionKey)
    .slice(0, MAX_ROWS - 1);
  // running and fresh: a stale box (the daemon may be gone) does not make the dot pulse
  const running = live.filter((s) => !isStale(s.status, s.updatedAt, s.staleAfterMs, now)).length;

  const update = (next: WidgetPrefs, persist: boolean) => {
    setPrefs(next);
    if (persist) saveWidgetPrefs(next);
  };

  const onPointerDown = (e: React.PointerEvent<HTMLElement>) => {
    if (e.button !== 0 || (e.target as HTMLElement).closest('[data-nodrag]')) return;
    const rect = box.current?.getBoundingClientRect();
    if (!rect) return;
    dragged.current = false; // a new press: forget a drag whose click never came
    drag.current = {
      pointerId: e.pointerId,
      startX: e.clientX,
      startY: e.clientY,
      originX: rect.left,
      originY: rect.top,
      moved: false,
    };
    e.currentTarget.setPointerCapture?.(e.pointerId);
    e.preventDefault();
  };
  const onPointerMove = (e: React.PointerEvent<HTMLElement>) => {
    const d = drag.current;
    if (!d || d.pointerId !== e.pointerId) return;
    const dx = e.clientX - d.startX;
    const dy = e.clientY - d.startY;
    if (!d.moved && Math.abs(dx) + Math.abs(dy) < DRAG_THRESHOLD_PX) return;
    d.moved = true;
    const rect = box.current?.getBoundingClientRect();
    const pos = clampPosition(
      d.originX + dx,
      d.originY + dy,
      rect?.width ?? WIDTH,
      rect?.height ?? DOT,
      window.innerWidth,
      window.innerHeight,
    );
    update({ ...prefs, ...pos }, false);
  };
  const onPointerUp = (e: React.PointerEvent<HTMLElement>) => {
    const d = drag.current;
    if (!d || d.pointerId !== e.pointerId) return;
    drag.current = null;
    dragged.current = d.moved;
    if (d.moved) update(prefs, true);
  };
  const dragHandlers = {
    onPointerDown,
    onPointerMove,
    onPointerUp,
    onPointerCancel: () => {
      drag.current = null;
    },
  };

  const w = prefs.collapsed ? DOT : WIDTH;
  const place: React.CSSProperties =
    prefs.x !== undefined && prefs.y !== undefined
      ? clampPosition(prefs.x, prefs.y, w, DOT, window.innerWidth, window.innerHeight)
      : { right: 24, bottom: 24 };
  const positioned: React.CSSProperties = {
    position: 'fixed',
    zIndex: 1000,
    left: (place as { x?: number }).x,
    top: (place as { y?: number }).y,
    right: (place as { right?: number }).right,
    bottom: (place as { bottom?: number }).bottom,
    touchAction: 'none',
    userSelect: 'none',
  };

  if (prefs.collapsed) {
    return (
      <button
        type="button"
        ref={(el) => {
          box.current = el;
        }}
        data-testid="ls-widget"
        data-collapsed="true"
        aria-label={`${live.length} agent sessions running; open`}
        // Enter/Space and a press without movement unfold; the end of a drag does not.
        onClick={() => {
          if (dragged.current) dragged.current = false;
          else update({ ...prefs, collapsed: false }, true);
        }}
        title={`${live.length} agent session(s) running — click to open, drag to move`}
        {...dragHandlers}
        style={{
          all: 'unset',
          ...positioned,
          width: DOT,
          height: DOT,
          borderRadius: DOT / 2,
          background: palette.buttonBg,
          color: palette.buttonFg,
          display: 'flex',
          alignItems: 'center',
          justifyContent: 'center',
          fontWeight: 700,
          boxShadow: '0 4px 12px rgba(0,0,0,0.24)',
          cursor: 'grab',
        }}
      >
        <PulseStyle />
        <span
          aria-hidden="true"
          data-testid="ls-widget-pulse"
          data-pulsing={running > 0 ? 'true' : 'false'}
          className={running > 0 ? 'clawpulse-ls-pulse' : undefined}
          style={{
            position: 'absolute',
            top: 3,
            right: 3,
            width: 9,
            height: 9,
            borderRadius: 5,
            background: running > 0 ? palette.ok : palette.dim,
          }}
        />
        <span data-testid="ls-widget-count">{live.length}</span>
      </button>
    );
  }
  return (
    <div
      ref={(el) => {
        box.current = el;
      }}
      data-testid="ls-widget"
      data-collapsed="false"
      style={{
        ...positioned,
        width: WIDTH,
        background: palette.bg,
        color: palette.fg,
        border: `1px solid ${palette.border}`,
        borderRadius: 8,
        boxShadow: '0 8px 24px rgba(0,0,0,0.2)',
        fontSize: 13,
        overflow: 'hidden',
      }}
    >
      <div
        data-testid="ls-widget-handle"
        {...dragHandlers}
        style={{
          display: 'flex',
          alignItems: 'center',
          gap: 8,
          padding: '6px 8px',
          background: palette.panel,
          borderBottom: `1px solid ${palette.border}`,
          cursor: 'grab',
        }}
      >
        <PulseStyle />
        <span
          aria-hidden="true"
          data-testid="ls-widget-pulse"
          data-pulsing={running > 0 ? 'true' : 'false'}
          className={running > 0 ? 'clawpulse-ls-pulse' : undefined}
          style={{ width: 8, height: 8, borderRadius: 4, background: running > 0 ? palette.ok : palette.dim }}
        />
        <span data-testid="ls-widget-title" style={{ flex: 1, fontWeight: 600 }}>
          {hasLive ? `${live.length} agent session${live.length > 1 ? 's' : ''} running` : 'Agents finished'}
        </span>
        <button
          type="button"
          data-nodrag=""
          data-testid="ls-widget-collapse"
          title="Fold into a dot"
          onClick={() => update({ ...prefs, collapsed: true }, true)}
          style={{ all: 'unset', cursor: 'pointer', padding: '0 4px', color: palette.dim, fontWeight: 700 }}
        >
          –
        </button>
      </div>
      <div data-nodrag="">
        {top ? <Busiest s={top} palette={palette} now={now} onOpen={deps.openPost} /> : null}
        {rows.map((s) => (
          <SessionRow key={s.sessionKey} s={s} palette={palette} now={now} compact onOpen={deps.openPost} />
        ))}
      </div>
    </div>
  );
}
