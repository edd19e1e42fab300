/**
 * The checks: a view against what the fake model logged, and two views against each other.
 * Each returns human-readable differences (empty = conformant), so a failing test prints
 * exactly what clawpulse saw wrong, and the harness can poll "has this view caught up yet".
 */
import { CHILD_LABEL } from './fake-model.js';
import type { Expected, ExpectedSession } from './harness.js';
import { type SessionSummary, summarize, type View } from './view.js';

export const SPAWN_KEY = 'agent:main:conf-spawn';

/** the sub-agent's key: the one OpenClaw returned to the parent, else the view's child of the spawn session */
export function childKeyIn(view: View, childKey?: string): string | undefined {
  if (childKey) return childKey;
  return view.tracker.all().find((s) => s.parentKey === SPAWN_KEY)?.key;
}

function keyOf(e: ExpectedSession, view: View, childKey?: string): string | undefined {
  return e.scenario === 'child' ? childKeyIn(view, childKey) : e.key;
}

/** `name:status` the fake asked for; a 2026.9 `tool_call` wrapper may be shown as the tool it wraps */
function toolMatches(expected: ExpectedSession['tools'], actual: string[]): boolean {
  if (expected.length !== actual.length) return false;
  const left = [...actual];
  for (const t of expected) {
    const i = left.findIndex(
      (a) => a === `${t.name}:${t.status}` || (t.wrapped !== undefined && a === `${t.wrapped}:${t.status}`),
    );
    if (i < 0) return false;
    left.splice(i, 1);
  }
  return true;
}

export interface CheckOptions {
  /** check tokens (input/output/cost) */
  tokens?: boolean;
  /** check that the terminal 529 shows */
  errors?: boolean;
}

export function sessionMismatches(
  s: SessionSummary | undefined,
  e: ExpectedSession,
  label: string,
  opts: CheckOptions = {},
): string[] {
  if (!s) return [`${label}: session missing`];
  const out: string[] = [];
  if (!toolMatches(e.tools, s.tools)) {
    out.push(
      `${label}: tools ${JSON.stringify(s.tools)} != expected ${JSON.stringify(e.tools.map((t) => `${t.name}${t.wrapped ? `(${t.wrapped})` : ''}:${t.status}`))}`,
    );
  }
  if (opts.tokens !== false) {
    if (s.input !== e.input || s.output !== e.output)
      out.push(`${label}: tokens in/out ${s.input}/${s.output} != expected ${e.input}/${e.output}`);
    if (Math.abs(s.costUsd - e.costUsd) > 1e-9)
      out.push(`${label}: cost ${s.costUsd} != expected ${e.costUsd}`);
  }
  if (opts.errors !== false && e.scenario === 'fail' && !s.errorStatuses.includes(529)) {
    out.push(
      `${label}: no error with status 529 (errors: ${JSON.stringify(s.errors)} statuses ${JSON.stringify(s.errorStatuses)})`,
    );
  }
  return out;
}

/** everything the view gets wrong against the fake model's log */
export function mismatches(
  view: View,
  expected: Expected,
  childKey: string | undefined,
  opts: CheckOptions = {},
): string[] {
  const sums = summarize(view);
  const out: string[] = [];
  const wanted = new Set<string>();
  for (const e of expected.values()) {
    if (e.scenario === 'none') {
      out.push(`fake model got ${e.calls} request(s) it could not attribute to a scenario`);
      continue;
    }
    const key = keyOf(e, view, childKey);
    if (!key) {
      out.push(`${e.scenario}: no sub-agent session (parentKey ${SPAWN_KEY}) in the view`);
      continue;
    }
    wanted.add(key);
    out.push(...sessionMismatches(sums.get(key), e, `${e.scenario} (${key})`, opts));
    if (e.scenario === 'child') {
      const child = sums.get(key);
      if (child && child.parentKey !== SPAWN_KEY)
        out.push(`child ${key}: parentKey ${child.parentKey} != ${SPAWN_KEY}`);
      if (child && child.label !== CHILD_LABEL)
        out.push(`child ${key}: label ${child.label} != ${CHILD_LABEL}`);
      const parent = sums.get(SPAWN_KEY);
      if (parent && !parent.children.includes(key))
        out.push(`${SPAWN_KEY}: children ${JSON.stringify(parent.children)} lack ${key}`);
    }
  }
  for (const key of sums.keys()) if (!wanted.has(key)) out.push(`unexpected session ${key}`);
  if (view.applyErrors.length)
    out.push(`tracker threw on ${view.applyErrors.length} event(s): ${view.applyErrors[0]?.error}`);
  return out;
}

/** differences between two views of one run: keys, tool name/status sets, tokens, parent links, labels */
export function viewDifferences(a: View, b: View): string[] {
  const sa = summarize(a);
  const sb = summarize(b);
  const out: string[] = [];
  const keys = new Set([...sa.keys(), ...sb.keys()]);
  for (const key of [...keys].sort()) {
    const x = sa.get(key);
    const y = sb.get(key);
    if (!x || !y) {
      out.push(`${key}: only in ${x ? a.name : b.name}`);
      continue;
    }
    if (JSON.stringify(x.tools) !== JSON.stringify(y.tools))
      out.push(`${key}: tools ${a.name}=${JSON.stringify(x.tools)} ${b.name}=${JSON.stringify(y.tools)}`);
    if (
      x.input !== y.input ||
      x.output !== y.output ||
      x.cacheRead !== y.cacheRead ||
      x.cacheWrite !== y.cacheWrite
    ) {
      out.push(
        `${key}: tokens ${a.name}=${x.input}/${x.output}/${x.cacheRead}/${x.cacheWrite} ${b.name}=${y.input}/${y.output}/${y.cacheRead}/${y.cacheWrite}`,
      );
    }
    if (Math.abs(x.costUsd - y.costUsd) > 1e-9)
      out.push(`${key}: cost ${a.name}=${x.costUsd} ${b.name}=${y.costUsd}`);
    if (x.parentKey !== y.parentKey)
      out.push(`${key}: parentKey ${a.name}=${x.parentKey} ${b.name}=${y.parentKey}`);
    if (x.label !== y.label) out.push(`${key}: label ${a.name}=${x.label} ${b.name}=${y.label}`);
  }
  return out;
}
