/**
 * Records the sessions `clawpulse demo` plays: the real OpenClaw 2026.7.35 (the last release
 * that writes sessions.json + JSONL transcripts, what the demo player reads) runs a small team's
 * morning against the scripted model in demo-model.ts, through its gateway, in a throwaway home
 * (test/conformance's install and run helpers). Its files are copied to
 * demo/recordings/relay-team/ with the temp paths rewritten to /home/oc.
 *
 *   npx tsx demo/record/record.ts            (about 2 minutes; a gateway and five agent runs)
 *
 * The sessions (keys agent:main:<name>):
 * - review-pr-412: reads the PR, spawns a test runner sub-agent, which spawns an integration
 *   worker of its own (a tree two deep), and writes the review when the results come back;
 * - triage-flaky-ci: reproduces a CI job whose script waits for a database that never comes up:
 *   the snapshot is taken with that exec still running, so the demo shows it STUCK;
 * - release-notes: git log, the changelog (the model answers 529 once: OpenClaw retries it
 *   itself and the run goes on), writes RELEASE_NOTES.md;
 * - postmortem-inc-2291: the model is overloaded on every attempt: the run fails with 529.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInstalled } from '../../test/conformance/install.js';
import {
  type AgentRun,
  cleanupOutsideTemp,
  createOpenclawEnv,
  runAgent,
  startGateway,
} from '../../test/conformance/run-openclaw.js';
import { type Script, startDemoModel } from './demo-model.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.join(REPO, 'demo/recordings/relay-team');
const VERSION = '2026.7.35' as const;

const RELEASE_NOTES = `# Relay 1.5.0

## New
- **Retry budget per endpoint.** A failing endpoint gets at most 20 retries per hour; the rest
  of your deliveries are no longer held up behind it (#412).
- **Backoff with jitter.** Retries spread out instead of arriving in waves (#398).

## Fixed
- \`Retry-After\` is read in seconds, as the spec says (#409).

## Breaking
- \`GET /deliveries\` pages with a cursor (\`?after=\`); \`?page=\` is gone (#405).
`;

export const SCRIPTS: Script[] = [
  {
    id: 'triage',
    match: 'integration (pg15)',
    steps: [
      {
        say: "Let me read the failing job's log first.",
        tool: 'read',
        args: { path: 'ci/last-failure.log' },
        thinkMs: 2500,
      },
      {
        say: 'It timed out waiting for the database, not on an assertion. Reproducing the job locally with the same container setup.',
        tool: 'exec',
        args: { command: './scripts/ci-repro.sh webhooks/retry.spec', yieldMs: 120_000 },
        thinkMs: 3000,
      },
      { text: 'The reproduction finished.', thinkMs: 1000 },
    ],
  },
  {
    id: 'review',
    match: 'Review PR #412',
    steps: [
      {
        say: 'Starting with what the PR changes.',
        tool: 'exec',
        args: { command: 'git show --stat HEAD' },
        thinkMs: 2000,
      },
      {
        say: 'The core change is in retry.ts; reading it in full.',
        tool: 'read',
        args: { path: 'src/webhooks/retry.ts' },
        thinkMs: 2500,
      },
      {
        say: 'The budget logic looks right, but the reset on success is subtle. A sub-agent runs the test suites while I go through the rest.',
        tool: 'sessions_spawn',
        args: {
          task: 'Run the webhook test suites for PR #412 (retry budget per endpoint) and report failures. Hand the slow integration suite to a worker of your own.',
          label: 'pr-412 tests',
        },
        thinkMs: 3000,
      },
      {
        text: "The tests are running in a sub-agent; I'll finish the review when it reports back.",
        thinkMs: 1200,
      },
    ],
    afterAnnounce: [
      {
        text: [
          'Review of PR #412 (retry budget per endpoint)',
          '',
          'Tests: unit 14/14 and integration 6/6 pass.',
          '',
          '1. retry.ts:27: the budget resets on any 2xx, so an endpoint that succeeds once in 20 tries never runs out. Decay it instead of resetting.',
          '2. retry.ts:14: Retry-After is honoured but not capped; `Retry-After: 86400` parks a delivery for a day. Cap it at maxDelayMs.',
          '',
          'Approve once (2) is fixed; (1) can be a follow-up.',
        ].join('\n'),
        thinkMs: 4000,
      },
    ],
  },
  {
    id: 'tests',
    match: 'Run the webhook test suites for PR #412',
    steps: [
      {
        say: 'Running the unit suite first.',
        tool: 'exec',
        args: { command: './scripts/test.sh unit webhooks' },
        thinkMs: 1500,
      },
      {
        say: 'Unit tests pass. Handing the integration suite to a worker so it runs against its own database.',
        tool: 'sessions_spawn',
        args: {
          task: 'Run the webhook integration suite for PR #412 (./scripts/test.sh integration webhooks) and report the result.',
          label: 'pr-412 integration',
        },
        thinkMs: 2000,
      },
      { text: 'Unit suite: 14 passed. The integration suite is running in a worker.', thinkMs: 800 },
    ],
    afterAnnounce: [
      {
        text: 'PR #412 tests: unit 14/14, integration 6/6 (retry budget, Retry-After, jitter). No failures.',
        thinkMs: 1500,
      },
    ],
  },
  {
    id: 'integration',
    match: 'Run the webhook integration suite for PR #412',
    steps: [
      {
        say: 'Running the integration suite.',
        tool: 'exec',
        args: { command: './scripts/test.sh integration webhooks' },
        thinkMs: 1500,
      },
      { text: 'Integration suite: 6 passed, 0 failed.', thinkMs: 1200 },
    ],
  },
  {
    id: 'release',
    match: 'release notes for v1.5.0',
    steps: [
      {
        say: 'Collecting what landed since v1.4.0.',
        tool: 'exec',
        args: { command: 'git log --oneline v1.4.0..HEAD' },
        thinkMs: 2000,
      },
      {
        say: "Checking the changelog's Unreleased section for anything the commit titles miss.",
        tool: 'read',
        args: { path: 'CHANGELOG.md' },
        thinkMs: 2000,
        overload: 'once',
      },
      {
        say: 'Writing RELEASE_NOTES.md.',
        tool: 'write',
        args: { path: 'RELEASE_NOTES.md', content: RELEASE_NOTES },
        thinkMs: 5000,
      },
      {
        text: 'Release notes for v1.5.0 are in RELEASE_NOTES.md: two features, one fix, one breaking change (cursor pagination on /deliveries).',
        thinkMs: 1500,
      },
    ],
  },
  {
    id: 'postmortem',
    match: 'INC-2291',
    steps: [
      {
        say: 'Reading the incident notes.',
        tool: 'read',
        args: { path: 'incidents/INC-2291.md' },
        thinkMs: 1500,
        overload: 'always',
      },
    ],
  },
];

/** the sessions started, in order, with their first message and when (ms after the first) */
const RUNS = [
  {
    key: 'agent:main:triage-flaky-ci',
    at: 0,
    message:
      'CI job `integration (pg15)` on main failed again on webhooks/retry.spec, the third time this week. Find out whether it is flaky or a real regression.',
  },
  {
    key: 'agent:main:review-pr-412',
    at: 2500,
    message: 'Review PR #412 (retry budget per endpoint) before I merge it. Check the tests too.',
  },
  {
    key: 'agent:main:release-notes',
    at: 6000,
    message: 'Write the release notes for v1.5.0 from what landed since v1.4.0. Short and user-facing.',
  },
  {
    key: 'agent:main:postmortem-inc-2291',
    at: 10_000,
    message:
      'Draft the postmortem for INC-2291 (webhook deliveries delayed 40 minutes on Tuesday) from the notes in incidents/INC-2291.md.',
  },
] as const;

const FILES: Record<string, string> = {
  'README.md':
    '# relay\n\nWebhook delivery service: queues events, delivers them with retries, reports failures.\n',
  'CHANGELOG.md':
    '# Changelog\n\n## Unreleased\n- Retry budget per endpoint (#412)\n- Exponential backoff with jitter (#398)\n- Cursor pagination for /deliveries; `page` removed (#405)\n- Retry-After read in seconds (#409)\n\n## 1.4.0\n- Delivery log export\n',
  'src/webhooks/retry.ts': [
    "import type { Endpoint } from './endpoint.js';",
    '',
    'export const RETRY_BUDGET = 20; // retries per endpoint per hour',
    '',
    'export interface RetryState {',
    '  attempts: number;',
    '  budget: number;',
    '  windowStart: number;',
    '}',
    '',
    'export function nextDelay(s: RetryState, retryAfterS?: number, maxDelayMs = 300_000): number {',
    '  const base = Math.min(maxDelayMs, 1000 * 2 ** s.attempts);',
    '  const jitter = Math.random() * base * 0.2;',
    '  return retryAfterS !== undefined ? retryAfterS * 1000 : base + jitter;',
    '}',
    '',
    'export function canRetry(s: RetryState, now: number): boolean {',
    '  if (now - s.windowStart > 3_600_000) {',
    '    s.windowStart = now;',
    '    s.budget = RETRY_BUDGET;',
    '  }',
    '  return s.budget > 0;',
    '}',
    '',
    'export function onSuccess(s: RetryState, _e: Endpoint): void {',
    '  s.attempts = 0;',
    '  s.budget = RETRY_BUDGET;',
    '}',
    '',
    'export function onFailure(s: RetryState): void {',
    '  s.attempts += 1;',
    '  s.budget -= 1;',
    '}',
    '',
  ].join('\n'),
  'src/webhooks/endpoint.ts': 'export interface Endpoint {\n  id: string;\n  url: string;\n}\n',
  'ci/last-failure.log': [
    'job: integration (pg15)  run #2291  main@4c1e9a2',
    '$ ./scripts/ci-repro.sh webhooks/retry.spec',
    '==> starting postgres 15 test container',
    '==> waiting for postgres on 127.0.0.1:5433',
    ' FAIL  webhooks/retry.spec > delivers after the budget window resets',
    '   Error: Timeout of 30000ms exceeded waiting for database connection',
    '   at connect (test/support/db.ts:18:11)',
    'Tests: 1 failed, 13 passed (14)',
    'Error: Process completed with exit code 1.',
    '',
  ].join('\n'),
  'scripts/test.sh': [
    '#!/bin/sh',
    '# runs one test suite: test.sh <unit|integration> <area>',
    'suite="$1"; area="$2"',
    'echo "> relay@1.5.0-rc.1 test:$suite $area"',
    'if [ "$suite" = unit ]; then',
    '  for t in backoff budget retry-after jitter; do sleep 0.4; echo " PASS  $area/$t.spec"; done',
    '  echo "Tests: 14 passed (14)"',
    'else',
    '  echo "==> postgres ready on 127.0.0.1:5544 (worker db)"',
    '  for t in "delivers after the budget window resets" "honours Retry-After" "spreads retries (jitter)"; do',
    '    sleep 1.5; echo " PASS  $area/retry.spec > $t"',
    '  done',
    '  echo "Tests: 6 passed (6)"',
    'fi',
    '',
  ].join('\n'),
  'scripts/ci-repro.sh': [
    '#!/bin/sh',
    '# reproduces a CI job locally: ci-repro.sh <spec>',
    'echo "==> reproducing integration (pg15) for $1"',
    'echo "==> starting postgres 15 test container"',
    'echo "==> waiting for postgres on 127.0.0.1:5433"',
    'sleep 150',
    '',
  ].join('\n'),
  'incidents/INC-2291.md':
    '# INC-2291 webhook deliveries delayed\n\n- 09:12 alert: delivery lag > 10 min\n- 09:20 one endpoint (acme-prod) failing, retries hold the shared queue\n- 09:52 endpoint disabled, lag drains\n',
};

function setUpWorkspace(dir: string): void {
  for (const [rel, text] of Object.entries(FILES)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text, { mode: rel.endsWith('.sh') ? 0o755 : 0o644 });
  }
  const retry = path.join(dir, 'src/webhooks/retry.ts');
  const prVersion = fs.readFileSync(retry, 'utf8');
  const git = (args: string[], date: string) =>
    execFileSync('git', ['-c', 'user.name=Dana Reyes', '-c', 'user.email=dana@relay.dev', ...args], {
      cwd: dir,
      env: { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
      stdio: 'ignore',
    });
  git(['init', '-q', '-b', 'main'], '2026-11-02T09:00:00Z');
  // v1.4.0: no budget yet
  fs.writeFileSync(retry, prVersion.replace(/\nexport function canRetry[\s\S]*?\n}\n/, '\n'));
  git(['add', '-A'], '2026-11-02T09:00:00Z');
  git(['commit', '-q', '-m', 'release 1.4.0'], '2026-11-02T09:00:00Z');
  git(['tag', 'v1.4.0'], '2026-11-02T09:00:00Z');
  const commits: Array<[string, string]> = [
    ['webhooks: exponential backoff with jitter (#398)', '2026-11-05T14:21:00Z'],
    ['api: paginate /deliveries with cursors (#405)', '2026-11-09T10:03:00Z'],
    ['fix: read Retry-After in seconds (#409)', '2026-11-12T16:40:00Z'],
  ];
  for (const [msg, date] of commits) git(['commit', '-q', '--allow-empty', '-m', msg], date);
  fs.writeFileSync(retry, prVersion);
  git(['add', '-A'], '2026-11-17T11:15:00Z');
  git(['commit', '-q', '-m', 'webhooks: retry budget per endpoint (#412)'], '2026-11-17T11:15:00Z');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** sessions.json fields the demo does not need that make the recording big */
const DROP = ['systemPromptReport', 'skillsSnapshot'];

async function main(): Promise<void> {
  const installed = await ensureInstalled((m) => console.log(m));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-demo-rec-'));
  console.log(`run dir ${root}`);
  const model = await startDemoModel({ scripts: SCRIPTS, logFile: path.join(root, 'model-log.jsonl') });
  const oc = await createOpenclawEnv({ version: VERSION, installed, modelBaseUrl: model.baseUrl, root });
  // the conformance config, with the demo's model (prices of a mid-size hosted model, $/M tokens)
  // and sub-agents that may spawn their own (maxSpawnDepth 2)
  const cfgFile = path.join(oc.stateDir, 'openclaw.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
  cfg.agents.defaults.model = { primary: 'scripted/demo-model' };
  cfg.agents.defaults.subagents = { maxSpawnDepth: 2 };
  cfg.models.providers = {
    scripted: {
      ...cfg.models.providers.fake,
      models: [
        {
          id: 'demo-model',
          name: 'Demo Model (scripted)',
          reasoning: false,
          input: ['text'],
          cost: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
          contextWindow: 200000,
          maxTokens: 8192,
        },
      ],
    },
  };
  fs.writeFileSync(cfgFile, `${JSON.stringify(cfg, null, 2)}\n`);
  setUpWorkspace(oc.workspace);
  const tmpOpenclawExisted = fs.existsSync('/tmp/openclaw');
  const gateway = await startGateway(oc);
  console.log(`gateway up in ${gateway.startMs} ms`);
  const sessionsDir = path.join(oc.stateDir, 'agents/main/sessions');
  const store = () => {
    try {
      return JSON.parse(fs.readFileSync(path.join(sessionsDir, 'sessions.json'), 'utf8')) as Record<
        string,
        Record<string, unknown>
      >;
    } catch {
      return {};
    }
  };
  const runs = new Map<string, Promise<AgentRun>>();
  try {
    const t0 = Date.now();
    for (const r of RUNS) {
      await sleep(Math.max(0, t0 + r.at - Date.now()));
      console.log(`start ${r.key}`);
      runs.set(r.key, runAgent(oc, { message: r.message, sessionKey: r.key, timeoutSec: 300 }));
    }
    for (const key of [
      'agent:main:review-pr-412',
      'agent:main:release-notes',
      'agent:main:postmortem-inc-2291',
    ]) {
      const r = await runs.get(key);
      console.log(`${key}: exit ${r?.code} in ${r?.ms} ms`);
    }
    // the review's second turn comes with its sub-agents' results
    const deadline = Date.now() + 180_000;
    while (!model.log().some((e) => e.script === 'review' && e.branch === 'announce' && e.kind === 'text')) {
      if (Date.now() > deadline) throw new Error('the review never got its sub-agent results');
      await sleep(500);
    }
    // every session but the stuck one has its row saved as ended
    const tree = () => keptKeys(store());
    while (
      tree().some((k) => k !== 'agent:main:triage-flaky-ci' && store()[k]?.status === 'running') &&
      Date.now() < deadline
    )
      await sleep(500);
    await sleep(3000);
    const s = store();
    const triage = s['agent:main:triage-flaky-ci'];
    const triageLines = fs.readFileSync(path.join(sessionsDir, `${triage?.sessionId}.jsonl`), 'utf8');
    const execCalled = /"toolCall","id":"[^"]+","name":"exec"/.test(triageLines);
    const execEnded = /"role":"toolResult","toolCallId":"[^"]+","toolName":"exec"/.test(triageLines);
    if (triage?.status !== 'running' || !execCalled || execEnded)
      throw new Error(
        `no stuck session to record: triage row ${String(triage?.status)}, exec called ${execCalled}, ended ${execEnded}`,
      );
    snapshot(s, sessionsDir, oc.home, root);
  } finally {
    await gateway.stop();
    await Promise.race([Promise.allSettled([...runs.values()]), sleep(15_000)]);
    await model.close();
    cleanupOutsideTemp(oc, tmpOpenclawExisted);
  }
  console.log(`recorded into ${OUT} (run dir ${root} kept for inspection)`);
}

/** the sessions started here and their sub-agents (not the gateway's own heartbeat session) */
function keptKeys(store: Record<string, Record<string, unknown>>): string[] {
  const keep = new Set<string>(RUNS.map((r) => r.key));
  for (let grew = true; grew; ) {
    grew = false;
    for (const [k, e] of Object.entries(store))
      if (!keep.has(k) && typeof e.spawnedBy === 'string' && keep.has(e.spawnedBy)) {
        keep.add(k);
        grew = true;
      }
  }
  return Object.keys(store).filter((k) => keep.has(k));
}

function snapshot(
  store: Record<string, Record<string, unknown>>,
  sessionsDir: string,
  home: string,
  root: string,
): void {
  const rewrite = (text: string) => text.split(home).join('/home/oc').split(root).join('/tmp/run');
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  const out: Record<string, Record<string, unknown>> = {};
  for (const key of keptKeys(store)) {
    const e = { ...store[key] };
    for (const k of DROP) delete e[k];
    out[key] = e;
    const file = path.join(sessionsDir, `${e.sessionId}.jsonl`);
    fs.writeFileSync(path.join(OUT, `${e.sessionId}.jsonl`), rewrite(fs.readFileSync(file, 'utf8')));
  }
  fs.writeFileSync(path.join(OUT, 'sessions.json'), `${rewrite(JSON.stringify(out, null, 2))}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
