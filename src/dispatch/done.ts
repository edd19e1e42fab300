/**
 * `dispatch done`: the agent's own completion signal, with openclaw-scheduler's guards against a
 * premature or invented "done". Each refusal names its rule and how to override it (exit 1).
 */
import type { LabelEntry } from '../store/dispatch-ledger.js';
import type { DispatchContext } from './context.js';
import { DispatchError } from './errors.js';
import { historyShowsActivity } from './gateway-ops.js';
import { requireLabel } from './inspect.js';
import { needsSha } from './task-prompt.js';
import { CLOCK_SKEW_MS, spawnedAtMs } from './verdict.js';

export interface DoneInput {
  label: string;
  checklist: string;
  summary?: string;
  sha?: string;
  forceDone?: boolean;
  reason?: string;
  skipActivityCheck?: boolean;
}

const SHA_RE = /^[0-9a-f]{7,40}$/i;

export async function done(
  ctx: DispatchContext,
  o: DoneInput,
): Promise<{ ok: true; label: string; entry: LabelEntry; warnings: string[] }> {
  const e = requireLabel(ctx, o.label);
  const warnings: string[] = [];
  const checklist = parseChecklist(o.checklist);
  if (checklist.work_complete !== true)
    throw new DispatchError(
      'REJECTED (checklist): --checklist must include "work_complete": true; finish the work first',
      1,
      'checklist.work_complete',
    );
  for (const k of ['tests_passed', 'pushed'] as const)
    if (checklist[k] === false)
      throw new DispatchError(
        `REJECTED (checklist): "${k}" is false; fix that before calling done`,
        1,
        `checklist.${k}`,
      );
  if (o.sha !== undefined && !SHA_RE.test(o.sha))
    throw new DispatchError(
      `REJECTED (sha): "${o.sha}" is not a git SHA (7-40 hex characters); pass the pushed commit's SHA`,
      1,
      'sha',
    );
  if (e.taskPrompt === undefined)
    warnings.push('this label has no stored task prompt: the git SHA rule was skipped');
  else if (needsSha(e.taskPrompt) && !o.sha)
    throw new DispatchError(
      'REJECTED (sha): the task runs git push/rebase/cherry-pick or a force push, so --sha <pushed commit> is required',
      1,
      'sha',
    );
  if (o.forceDone && !o.reason?.trim())
    throw new DispatchError(
      '--force-done needs --reason "<why this short run is complete>"',
      2,
      'force-done',
    );
  const ranMs = ctx.now() - spawnedAtMs(e);
  if (!o.forceDone && ranMs < ctx.minRuntimeMs)
    throw new DispatchError(
      `REJECTED (minimum runtime): the run started ${Math.round(ranMs / 1000)} s ago, under the ${Math.round(ctx.minRuntimeMs / 1000)} s minimum (DISPATCH_MIN_RUNTIME_S); for a legitimately short task pass --force-done --reason "<why>"`,
      1,
      'min-runtime',
    );
  // --force-done (with its reason) passes this check too, as in the original
  if (!o.skipActivityCheck && !o.forceDone) {
    const active = await hadAssistantMessages(ctx, e);
    if (active === false)
      throw new DispatchError(
        'REJECTED (activity): the session has no assistant message or finished tool call yet; if that is right for this task pass --skip-activity-check (or --force-done --reason "<why>")',
        1,
        'activity',
      );
    if (active === undefined)
      warnings.push('activity check skipped: the gateway did not answer (fails open)');
  }
  const at = new Date(ctx.now()).toISOString();
  const entry = ctx.ledger.update(o.label, (cur) =>
    cur
      ? {
          ...cur,
          status: 'done',
          summary: o.summary ?? 'completed (agent signal)',
          checklist,
          sha: o.sha ?? null,
          forceReason: o.forceDone ? (o.reason ?? null) : null,
          error: null,
          retryDueAt: undefined,
          updatedAt: at,
        }
      : undefined,
  ) as LabelEntry;
  return { ok: true, label: o.label, entry, warnings };
}

function parseChecklist(raw: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    throw new DispatchError(`--checklist is not valid JSON (${(err as Error).message})`, 2, 'checklist');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new DispatchError('--checklist must be a JSON object, e.g. {"work_complete":true}', 2, 'checklist');
  return v as Record<string, unknown>;
}

/**
 * Whether the run did something: an assistant reply, or a tool call that returned (agents often
 * work through tools alone and call done, itself a tool call, before writing any text). True /
 * false; undefined when nothing could tell (the check fails open).
 */
async function hadAssistantMessages(ctx: DispatchContext, e: LabelEntry): Promise<boolean | undefined> {
  const since = spawnedAtMs(e);
  const stored = await ctx.live.lastReply(e.sessionKey, since).catch(() => undefined);
  if (stored !== undefined) return true;
  const s = await ctx.live.session(e.sessionKey).catch(() => undefined);
  if (s?.tools.some((t) => t.status !== 'running' && t.startedAt >= since - CLOCK_SKEW_MS)) return true;
  try {
    return await historyShowsActivity(await ctx.gateway(), e.sessionKey, since - CLOCK_SKEW_MS);
  } catch {
    return undefined;
  }
}
