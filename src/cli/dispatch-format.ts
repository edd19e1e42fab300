/** The human text of the dispatch commands (their --json output is the objects themselves). */
import type { EnqueueResult } from '../dispatch/enqueue.js';
import type {
  heartbeat as heartbeatFn,
  LiveInfo,
  StuckLabel,
  status as statusFn,
} from '../dispatch/inspect.js';
import type { RecoverReport, SyncReport } from '../dispatch/reconcile.js';
import { formatDuration } from '../model/format.js';
import { formatTokens } from '../render/format.js';
import type { LabelEntry } from '../store/dispatch-ledger.js';

export function enqueued(r: EnqueueResult, daemon: boolean): string {
  return [
    `dispatched ${r.label} (${r.mode})`,
    `  session ${r.sessionKey}`,
    `  run     ${r.runId}`,
    daemon ? '' : '  (no clawpulse daemon running: the label follows its run once one starts)',
  ]
    .filter(Boolean)
    .join('\n');
}

function liveLines(l: LiveInfo | null): string[] {
  if (!l) return ["  live:    unknown (not in clawpulse's model; gateway unreachable or session gone)"];
  const tokens = typeof l.tokens === 'number' ? l.tokens : l.tokens?.total;
  return [
    `  live:    ${l.state ?? '?'}${l.ageSeconds !== undefined ? `, last activity ${formatDuration(l.ageSeconds * 1000)} ago` : ''} (from ${l.from})`,
    ...(l.model ? [`  model:   ${l.model}`] : []),
    ...(tokens !== undefined
      ? [`  tokens:  ${formatTokens(tokens)}${l.costUsd !== undefined ? `, $${l.costUsd.toFixed(4)}` : ''}`]
      : []),
    ...(l.currentTool ? [`  tool:    ${l.currentTool}`] : []),
  ];
}

export function status(v: Awaited<ReturnType<typeof statusFn>>): string {
  const lines = [
    `${v.label}: ${v.status.toUpperCase()}`,
    `  session: ${v.sessionKey}`,
    `  run:     ${v.runId ?? '-'}, started ${v.spawnedAt}`,
    ...(v.summary ? [`  summary: ${v.summary}`] : []),
    ...(v.error ? [`  error:   ${v.error}`] : []),
    ...(v.retryCount
      ? [
          `  retries: ${v.retryCount}/3${v.retryDueAt ? `, next at ${new Date(v.retryDueAt).toISOString()}` : ''}`,
        ]
      : []),
    ...(v.delivery
      ? [
          `  deliver: ${v.delivery.state} to ${v.deliverChannel}:${v.deliverTo}${v.delivery.error ? ` (${v.delivery.error})` : ''}`,
        ]
      : []),
    ...(v.verify
      ? [
          `  verify:  ${v.verify.state}${v.verify.exitCode !== undefined ? ` (exit ${v.verify.exitCode}${v.verify.timedOut ? ', timed out' : ''})` : ''}: ${v.verify.command}`,
          ...(v.verify.tail ?? []).slice(-5).map((l) => `           ${l}`),
        ]
      : []),
    ...liveLines(v.live),
  ];
  return lines.join('\n');
}

export function heartbeat(v: Awaited<ReturnType<typeof heartbeatFn>>): string {
  const who = v.label ?? v.sessionKey;
  if (v.ageSeconds === null) return `${who}: unknown (no activity seen)`;
  return `${who}: ${v.alive ? 'alive' : 'silent'}, last activity ${formatDuration(v.ageSeconds * 1000)} ago`;
}

export function stuckList(found: StuckLabel[]): string {
  if (!found.length) return '';
  const lines = found.map(
    (s) =>
      `• ${s.label} (running ${s.ageMin}min, silent ${s.silenceMin}min${s.tool ? `, in ${s.tool}` : ''})`,
  );
  return `⚠️ dispatch: ${found.length} stuck session${found.length > 1 ? 's' : ''}:\n${lines.join('\n')}`;
}

export function labelTable(list: ReadonlyArray<{ label: string; entry: LabelEntry }>, now: number): string {
  const rows = list.map(({ label, entry: e }) => [
    e.status.toUpperCase(),
    label,
    formatDuration(Math.max(0, now - Date.parse(e.updatedAt))),
    e.sessionKey,
    e.error ?? e.summary ?? '',
  ]);
  if (!rows.length) return 'no labels yet (clawpulse dispatch enqueue --label … --message …)';
  const head = ['STATUS', 'LABEL', 'UPDATED', 'SESSION', 'NOTE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c.slice(0, 80) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

export function syncReport(v: SyncReport): string {
  const verb = v.dryRun ? 'would mark' : 'marked';
  const lines = [
    `${verb} ${v.stale.length} stale, ${v.dryRun ? 'would import' : 'imported'} ${v.imported.length}`,
    ...v.stale.map((s) => `  stale    ${s.label} (${s.sessionKey})`),
    ...v.imported.map((s) => `  imported ${s.label} (${s.sessionKey}, ${s.status})`),
  ];
  return lines.join('\n');
}

/** silent unless something was retried or failed (cron mails what a command prints) */
export function recoverReport(v: RecoverReport): string {
  if (!v.retried.length && !v.failed.length) return '';
  return [
    ...v.retried.map(
      (r) =>
        `retried ${r.label} (attempt ${r.attempt}/3, ${r.via === 'fresh' ? 'fresh session' : 'continued'})`,
    ),
    ...v.failed.map((f) => `retry failed for ${f.label}: ${f.error}`),
  ].join('\n');
}
