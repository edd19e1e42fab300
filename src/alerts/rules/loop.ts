/**
 * A loop: within one run, the same tool called with the same arguments `repeat` times, or one
 * tool failing `failStreak` times in a row (no success of that tool between). One alert per
 * session, run and tool; a repeat loop holds until the run ends, a failure streak until that tool
 * succeeds or the run ends. Calls without an argument summary do not count as repeats (a poll with
 * no arguments repeats by nature). Only the current run of each session is remembered.
 */
import type { SessionState } from '../../model/session.js';
import { type Condition, nameOf, type Rule } from './rule.js';

export interface LoopOptions {
  repeat: number;
  failStreak: number;
  maxEventAgeMs: number;
  getSession(key: string): SessionState | undefined;
}

interface RunTools {
  runId: string;
  /** calls per `tool\0args` */
  calls: Map<string, number>;
  /** the tool, args and count of each repeat at or over the threshold */
  repeats: Map<string, { tool: string; args: string; n: number }>;
  /** failures in a row per tool */
  streaks: Map<string, number>;
  /** the last error text per tool */
  lastError: Map<string, string>;
}

const MAX_ARGS_SHOWN = 120;

export function loopRule(opts: LoopOptions): Rule {
  const runs = new Map<string, RunTools>();
  /** sessions whose current run has a tool at either threshold: all `conditions` looks at */
  const looping = new Set<string>();
  const isLooping = (r: RunTools): boolean =>
    r.repeats.size > 0 || [...r.streaks.values()].some((n) => n >= opts.failStreak);
  const runOf = (sessionKey: string, runId: string): RunTools => {
    let r = runs.get(sessionKey);
    if (!r || r.runId !== runId) {
      r = { runId, calls: new Map(), repeats: new Map(), streaks: new Map(), lastError: new Map() };
      runs.set(sessionKey, r);
    }
    return r;
  };
  return {
    rule: 'loop',
    update(u) {
      const touched = new Set<string>();
      for (const { event: e } of u.events) {
        if (u.now - e.ts > opts.maxEventAgeMs) continue;
        if (
          e.type === 'tool.call' ||
          e.type === 'tool.error' ||
          e.type === 'tool.output' ||
          ((e.type === 'agent.finished' || e.type === 'agent.started') && runs.has(e.sessionKey))
        )
          touched.add(e.sessionKey);
        if (e.type === 'tool.call' && e.args) {
          const r = runOf(e.sessionKey, e.runId);
          const k = `${e.name}\0${e.args}`;
          const n = (r.calls.get(k) ?? 0) + 1;
          r.calls.set(k, n);
          if (n >= opts.repeat) r.repeats.set(e.name, { tool: e.name, args: e.args, n });
        } else if (e.type === 'tool.error') {
          const r = runOf(e.sessionKey, e.runId);
          r.streaks.set(e.name, (r.streaks.get(e.name) ?? 0) + 1);
          r.lastError.set(e.name, e.error);
        } else if (e.type === 'tool.output') {
          runs.get(e.sessionKey)?.streaks.delete(e.name);
        } else if (e.type === 'agent.finished' || e.type === 'agent.started') {
          // a run that ends (or a new one) ends its loops
          if (e.type === 'agent.started' && runs.get(e.sessionKey)?.runId === e.runId) continue;
          runs.delete(e.sessionKey);
        }
      }
      for (const k of u.removed ?? []) {
        runs.delete(k);
        touched.add(k);
      }
      let changed = false;
      for (const k of touched) {
        const r = runs.get(k);
        const was = looping.has(k);
        if (r && isLooping(r)) looping.add(k);
        else looping.delete(k);
        // a session still looping may loop on one more tool: asked again too
        changed ||= was || looping.has(k);
      }
      return changed;
    },
    *conditions(): Iterable<Condition> {
      for (const key of looping) {
        const r = runs.get(key);
        if (!r) continue;
        const s = opts.getSession(key);
        const who = s ? nameOf(s) : key;
        const tools = new Set([...r.repeats.keys(), ...r.streaks.keys()]);
        for (const tool of tools) {
          const rep = r.repeats.get(tool);
          const streak = r.streaks.get(tool) ?? 0;
          const failing = streak >= opts.failStreak;
          if (!rep && !failing) continue;
          const parts: string[] = [];
          if (rep) parts.push(`called ${tool} ${rep.n} times with the same arguments (${clip(rep.args)})`);
          if (failing)
            parts.push(`${tool} failed ${streak} times in a row (${clip(r.lastError.get(tool) ?? '')})`);
          yield {
            key: `loop:${key}:${r.runId}:${tool}`,
            severity: 'warning',
            ...(s ? { session: s } : { sessionKey: key }),
            message: `${who} may be looping: ${parts.join('; ')}`,
            resolvedMessage: `${who}: ${tool} no longer looping`,
            value: rep ? rep.n : streak,
            threshold: rep ? opts.repeat : opts.failStreak,
            unit: 'calls',
          };
        }
      }
    },
  };
}

const clip = (s: string) => (s.length > MAX_ARGS_SHOWN ? `${s.slice(0, MAX_ARGS_SHOWN - 1)}…` : s);
