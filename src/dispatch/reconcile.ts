/**
 * The ledger against the world: `sync` (the gateway's sessions), `import` (an openclaw-scheduler
 * labels.json) and `recover` (the 529 safety net as a one-shot, for cron).
 */
import { readFileSync } from 'node:fs';
import type { LabelEntry, LabelStatus } from '../store/dispatch-ledger.js';
import type { DispatchContext } from './context.js';
import { DispatchError } from './errors.js';
import { agentOfKey, listSessions } from './gateway-ops.js';
import type { LifecycleEvent } from './lifecycle.js';
import { retryDue, retryLabel } from './recovery.js';
import { transitionFor } from './transition.js';
import { runVerdict, spawnedAtMs } from './verdict.js';

/** a session just enqueued may not be listed yet */
const YOUNG_MS = 5 * 60_000;

export interface SyncReport {
  ok: true;
  dryRun: boolean;
  stale: Array<{ label: string; sessionKey: string }>;
  imported: Array<{ label: string; sessionKey: string; status: LabelStatus }>;
}

export async function sync(ctx: DispatchContext, dryRun = false): Promise<SyncReport> {
  // a gateway that cannot be reached and one that refuses the call both end here
  const rows = await ctx
    .gateway()
    .then((gw) => listSessions(gw, 1000))
    .catch((err) => {
      throw new DispatchError(`sync needs the gateway: ${(err as Error).message}`);
    });
  const now = ctx.now();
  const at = new Date(now).toISOString();
  const listed = new Set(rows.map((r) => r.key));
  const report: SyncReport = { ok: true, dryRun, stale: [], imported: [] };
  const known = new Set<string>();
  for (const { label, entry } of ctx.ledger.list()) {
    known.add(entry.sessionKey);
    if (entry.status !== 'running' || listed.has(entry.sessionKey) || now - spawnedAtMs(entry) < YOUNG_MS)
      continue;
    report.stale.push({ label, sessionKey: entry.sessionKey });
    if (!dryRun)
      ctx.ledger.update(label, (cur) =>
        cur?.status === 'running' && cur.sessionKey === entry.sessionKey
          ? { ...cur, status: 'stale', error: 'session no longer on the gateway (sync)', updatedAt: at }
          : undefined,
      );
  }
  for (const r of rows) {
    if (known.has(r.key)) continue;
    const wanted = typeof r.label === 'string' && r.label.trim() ? r.label.trim() : r.key;
    const label = ctx.ledger.get(wanted) ? r.key : wanted;
    const status: LabelStatus = r.hasActiveRun
      ? 'running'
      : r.status === 'failed' || r.status === 'timeout' || r.status === 'killed'
        ? 'error'
        : 'done';
    report.imported.push({ label, sessionKey: r.key, status });
    if (dryRun) continue;
    const updated = r.updatedAt ? new Date(r.updatedAt).toISOString() : at;
    ctx.ledger.update(label, (cur) =>
      cur
        ? undefined
        : {
            sessionKey: r.key,
            runId: null,
            agent: agentOfKey(r.key),
            mode: 'fresh',
            model: typeof r.model === 'string' ? r.model : null,
            thinking: null,
            spawnedAt: updated,
            status,
            summary: null,
            error: status === 'error' ? `session ${r.status} on the gateway` : null,
            updatedAt: at,
            retryCount: 0,
            createdBy: 'sync',
            // already over when found: nothing to deliver or check
            monitor: false,
            ...(status !== 'running' ? { endedAt: updated } : {}),
          },
    );
  }
  return report;
}

/** imports an openclaw-scheduler labels.json; labels already in the ledger are kept as they are */
export function importLabels(
  ctx: DispatchContext,
  file: string,
): { ok: true; file: string; imported: string[]; skipped: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DispatchError(`cannot import ${file}: ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new DispatchError(`cannot import ${file}: not a labels.json object ({"<label>": {...}})`);
  const imported: string[] = [];
  const skipped: string[] = [];
  for (const [label, v] of Object.entries(raw as Record<string, unknown>)) {
    const e = v as Partial<LabelEntry> | null;
    if (!e || typeof e !== 'object' || typeof e.sessionKey !== 'string') {
      skipped.push(label);
      continue;
    }
    // a label is imported when this call wrote it (an earlier import of the file is kept too)
    let created = false;
    ctx.ledger.update(label, (cur) => {
      if (cur) return undefined;
      created = true;
      return {
        runId: null,
        agent: agentOfKey(e.sessionKey as string),
        mode: 'fresh',
        model: null,
        thinking: null,
        spawnedAt: e.updatedAt ?? new Date(ctx.now()).toISOString(),
        summary: null,
        error: null,
        updatedAt: new Date(ctx.now()).toISOString(),
        ...e,
        status: normalStatus(e.status),
        createdBy: 'import',
      } as LabelEntry;
    });
    (created ? imported : skipped).push(label);
  }
  return { ok: true, file, imported, skipped };
}

function normalStatus(s: unknown): LabelStatus {
  return s === 'running' || s === 'done' || s === 'error' || s === 'stale'
    ? s
    : s === 'spawn-warning'
      ? 'running'
      : 'done';
}

export interface RecoverReport {
  ok: true;
  retried: Array<{ label: string; attempt: number; via: string; sessionKey: string }>;
  failed: Array<{ label: string; error: string }>;
  scheduled: Array<{ label: string; dueAt: string }>;
}

/**
 * One pass of the 529 safety net: running labels whose run failed on an overload get their
 * retry planned (as the daemon does live), and retries that are due go out. The daemon does
 * all of this itself; this is for cron and for when it is not running. Claims make the two
 * safe to run together.
 */
export async function recover(ctx: DispatchContext): Promise<RecoverReport> {
  const report: RecoverReport = { ok: true, retried: [], failed: [], scheduled: [] };
  const now = ctx.now();
  for (const { label, entry } of ctx.ledger.list({ status: 'running' })) {
    const s = await ctx.live.session(entry.sessionKey).catch(() => undefined);
    let planned: ReturnType<typeof transitionFor>;
    ctx.ledger.update(label, (cur) => {
      if (cur?.status !== 'running' || cur.runId !== entry.runId) return undefined;
      planned = transitionFor(label, cur, runVerdict(cur, s), now, ctx.retryBackoffMs);
      return planned?.entry;
    });
    if (planned?.entry.retryDueAt !== undefined)
      report.scheduled.push({ label, dueAt: new Date(planned.entry.retryDueAt).toISOString() });
  }
  for (const { label, entry } of ctx.ledger.list({ status: 'error' })) {
    if (!retryDue(entry, now)) continue;
    try {
      const out = await retryLabel(label, { gateway: await ctx.gateway(), ledger: ctx.ledger, now: ctx.now });
      if (!out) continue;
      report.retried.push({ label, attempt: out.attempt, via: out.via, sessionKey: out.sessionKey });
      if (!ctx.daemonRunning) ctx.emitter.emit(retriedEvent(ctx, label, out));
    } catch (err) {
      report.failed.push({ label, error: (err as Error).message });
    }
  }
  return report;
}

function retriedEvent(
  ctx: DispatchContext,
  label: string,
  out: { attempt: number; via: string; sessionKey: string; runId: string; error: string },
): LifecycleEvent {
  return {
    event: 'dispatch.retried',
    ts: ctx.now(),
    label,
    sessionKey: out.sessionKey,
    runId: out.runId,
    host: ctx.host,
    attempt: out.attempt,
    error: out.error,
    detail: out.via,
  };
}
