/**
 * One conformance run for one OpenClaw version: fake model up, gateway up, live observers
 * started (raw WS capture + whatever clawpulse sources the caller passes), the scenarios run
 * through `openclaw agent`, then everything stopped. What the fake model logged becomes the
 * expectation (`expectedFrom`); the raw artifacts stay in the run's temp dir.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXED_USAGE, type LoggedRequest, type Scenario, startFakeModel } from './fake-model.js';
import type { InstalledPaths, OpenclawVersion } from './install.js';
import {
  type AgentRun,
  cleanupOutsideTemp,
  createOpenclawEnv,
  type OpenclawEnv,
  runAgent,
  startGateway,
} from './run-openclaw.js';
import { startWsCapture } from './ws-capture.js';

/** the user-facing scenarios, in run order; 'child' is the sub-agent spawned by 'spawn' */
export const SCENARIOS = ['tool', 'spawn', 'toolfail', 'execfail', 'overload', 'fail'] as const;
export type RunScenario = (typeof SCENARIOS)[number];

export const sessionKeyOf = (s: RunScenario): string => `agent:main:conf-${s}`;
export const messageOf = (s: RunScenario): string => `[conf:${s}] conformance scenario ${s}`;

export interface RunResult {
  version: OpenclawVersion;
  oc: OpenclawEnv;
  requests: LoggedRequest[];
  agents: Record<RunScenario, AgentRun>;
  /** the sub-agent's session key, as OpenClaw returned it to the parent */
  childKey?: string;
  timings: {
    gatewayStartMs: number;
    scenariosMs: Record<string, number>;
    settleMs: number;
    stopMs: number;
    /** the gateway did not stop within 10 s of SIGTERM and was SIGKILLed */
    gatewayKilled?: boolean;
    totalMs: number;
  };
}

export interface LiveObserver {
  name: string;
  start(oc: OpenclawEnv): Promise<void>;
  /** true once this observer has caught up with what the run did */
  settled(expected: Expected): boolean;
  stop(): Promise<void>;
}

export async function conformanceRun(opts: {
  version: OpenclawVersion;
  installed: InstalledPaths;
  observers: LiveObserver[];
  log?: (m: string) => void;
}): Promise<RunResult> {
  const log = opts.log ?? (() => {});
  const t0 = Date.now();
  const rootTmp = fs.mkdtempSync(
    path.join(process.env.CLAWPULSE_CONFORMANCE_TMP ?? os.tmpdir(), `clawpulse-conf-${opts.version}-`),
  );
  const fake = await startFakeModel({
    logFile: path.join(rootTmp, 'model-requests.jsonl'),
    overloadFailures: 1,
  });
  const oc = await createOpenclawEnv({
    version: opts.version,
    installed: opts.installed,
    modelBaseUrl: fake.baseUrl,
    root: rootTmp,
  });
  log(`[${opts.version}] run dir ${oc.root}`);
  const tmpOpenclawExisted = fs.existsSync('/tmp/openclaw');
  const started: LiveObserver[] = [];
  const gateway = await startGateway(oc);
  const timings: RunResult['timings'] = {
    gatewayStartMs: gateway.startMs,
    scenariosMs: {},
    settleMs: 0,
    stopMs: 0,
    totalMs: 0,
  };
  const capture = startWsCapture({
    url: oc.gatewayUrl,
    token: oc.token,
    file: path.join(oc.root, 'ws-frames.jsonl'),
  });
  const agents = {} as Record<RunScenario, AgentRun>;
  try {
    await capture.ready;
    for (const o of opts.observers) {
      await o.start(oc);
      started.push(o);
    }
    const one = async (s: RunScenario) => {
      agents[s] = await runAgent(oc, {
        message: messageOf(s),
        sessionKey: sessionKeyOf(s),
        timeoutSec: 150,
        name: s,
      });
      timings.scenariosMs[s] = agents[s].ms;
      log(`[${opts.version}] scenario ${s}: exit ${agents[s].code} in ${agents[s].ms} ms`);
    };
    // Each scenario has its own session, so they run at once: 'fail' alone spends ~80 s in
    // OpenClaw's retry backoff on 2026.9 (7 attempts in a 90 s window), and each CLI start costs
    // seconds of CPU. Concurrent sessions are also what a real gateway sees.
    // CLAWPULSE_CONFORMANCE_SERIAL=1 runs them one by one (easier to read logs).
    if (process.env.CLAWPULSE_CONFORMANCE_SERIAL === '1') {
      for (const s of SCENARIOS) await one(s);
    } else {
      await Promise.all(SCENARIOS.map((s) => one(s)));
    }
    // The sub-agent finishes and announces to its parent after the parent's turn returned.
    const s0 = Date.now();
    const expectedSoFar = () => expectedFrom(fake.requests(), opts.version);
    const childDone = () => fake.requests().some((r) => r.scenario === 'spawn' && r.turnScenario === 'none');
    while (Date.now() - s0 < 30_000 && !(childDone() && started.every((o) => o.settled(expectedSoFar())))) {
      await new Promise((r) => setTimeout(r, 250));
    }
    timings.settleMs = Date.now() - s0;
  } finally {
    for (const o of started) await o.stop().catch(() => {});
    await capture.close();
    const st = await gateway.stop();
    timings.stopMs = st.ms;
    timings.gatewayKilled = st.killed;
    await fake.close();
    cleanupOutsideTemp(oc, tmpOpenclawExisted);
  }
  timings.totalMs = Date.now() - t0;
  const requests = fake.requests();
  const result: RunResult = {
    version: opts.version,
    oc,
    requests,
    agents,
    childKey: childKeyFrom(requests),
    timings,
  };
  fs.writeFileSync(
    path.join(oc.root, 'run-result.json'),
    JSON.stringify({ ...result, oc: undefined, root: oc.root }, null, 2),
  );
  return result;
}

function childKeyFrom(requests: LoggedRequest[]): string | undefined {
  for (const r of requests) {
    const m = /agent:main:subagent:[0-9a-f-]{36}/.exec(r.lastToolResult ?? '');
    if (r.scenario === 'spawn' && m) return m[0];
  }
  return undefined;
}

export interface ExpectedSession {
  key: string;
  scenario: Scenario;
  /** successful model responses (each carried FIXED_USAGE) */
  calls: number;
  input: number;
  output: number;
  costUsd: number;
  /** tool calls the fake asked for: name (and the wrapped tool for 2026.9's `tool_call`) */
  tools: Array<{ name: string; wrapped?: string; status: 'ok' | 'error' }>;
  /** 529s the fake answered */
  errors529: number;
}

export type Expected = Map<Scenario, ExpectedSession>;

/** what a tool call the fake asked for must end as, per scenario */
export function toolStatusFor(_version: OpenclawVersion): Partial<Record<Scenario, 'ok' | 'error'>> {
  // A non-zero exec exit: 2026.7.35 stores the tool result with isError:true, 2026.9.6 with
  // isError:false (details.exitCode 2, status "completed"; its gateway says the same).
  // clawpulse reads the exit code (src/openclaw/summarize.ts), so it is an error on both.
  return { toolfail: 'error', execfail: 'error' };
}
/** provider prices configured in openclaw.json (USD per million tokens) */
const PRICE = { input: 1, output: 2 };

export function expectedFrom(
  requests: readonly LoggedRequest[],
  version: OpenclawVersion,
  childKey?: string,
): Expected {
  const toolStatus = toolStatusFor(version);
  const out: Expected = new Map();
  for (const r of requests) {
    const key =
      r.scenario === 'child'
        ? (childKey ?? 'child')
        : r.scenario === 'heartbeat'
          ? 'agent:main:main'
          : `agent:main:conf-${r.scenario}`;
    let e = out.get(r.scenario);
    if (!e) {
      e = { key, scenario: r.scenario, calls: 0, input: 0, output: 0, costUsd: 0, tools: [], errors529: 0 };
      out.set(r.scenario, e);
    }
    if (r.decision.kind === 'error') {
      e.errors529++;
      continue;
    }
    e.calls++;
    e.input += FIXED_USAGE.prompt_tokens;
    e.output += FIXED_USAGE.completion_tokens;
    e.costUsd = Math.round(e.input * PRICE.input + e.output * PRICE.output) / 1e6;
    if (r.decision.kind === 'tool') {
      const args = r.decision.args as { id?: unknown };
      e.tools.push({
        name: r.decision.name,
        wrapped: r.decision.name === 'tool_call' && typeof args.id === 'string' ? args.id : undefined,
        status: toolStatus[r.scenario] ?? 'ok',
      });
    }
  }
  return out;
}
