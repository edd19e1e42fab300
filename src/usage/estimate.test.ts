/**
 * Cost when the source has none: the price table, PRICES_FILE, and a real transcript whose
 * records carry usage but no cost, through the pipeline (estimator → store → model → usage
 * aggregate → views).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withoutCost } from '../../test/support/usage-fixture.js';
import { silentLogger } from '../infra/logger.js';
import { streamTranscript } from '../ingest/files/once.js';
import type { LlmTokensEvent, PulseEvent } from '../model/events.js';
import { testLimits } from '../model/test-events.js';
import { createSessionTracker } from '../model/tracker.js';
import { createPipeline } from '../pipeline.js';
import { footerLine } from '../render/format.js';
import { toReplayJson } from '../render/json-view.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import { tempDir } from '../test-support/temp-dir.js';
import { createCostEstimator, priceTokens } from './estimate.js';
import { BUNDLED_PRICES, findPrice } from './prices.js';
import { loadPrices, PricesFileError } from './prices-file.js';

const FIXTURE = new URL(
  '../../test/fixtures/openclaw/v2026.7.35/daa6b28a-5388-4104-8e50-89a5a783e4c6.jsonl',
  import.meta.url,
);

const tokens = (over: Partial<LlmTokensEvent> = {}): LlmTokensEvent => ({
  type: 'llm.tokens',
  ts: 1,
  source: 'files',
  sessionKey: 'agent:main:x',
  agentId: 'main',
  dedupeKey: `k${Math.random()}`,
  input: 1_000_000,
  output: 100_000,
  cacheRead: 2_000_000,
  cacheWrite: 10_000,
  reasoning: 0,
  costUsd: 0,
  ...over,
});

/** the fixture transcript with its cost removed and its model named `provider/model` */
function transcriptWithoutCost(dir: string, provider: string, model: string): string {
  const lines = readFileSync(FIXTURE, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) =>
      withoutCost(l)
        .replaceAll('"provider":"fake"', `"provider":"${provider}"`)
        .replaceAll('"fake-model"', `"${model}"`),
    );
  const file = join(dir, 'daa6b28a-5388-4104-8e50-89a5a783e4c6.jsonl');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('price table', () => {
  it('finds a model by its family, with dated ids, dots and provider prefixes', () => {
    expect(findPrice(BUNDLED_PRICES, 'claude-sonnet-4-5-20250929', 'anthropic')?.input).toBe(3);
    expect(findPrice(BUNDLED_PRICES, 'anthropic/claude-sonnet-4.5')?.output).toBe(15);
    expect(findPrice(BUNDLED_PRICES, 'us.anthropic.claude-opus-4-1-20250805-v1:0', 'bedrock')?.input).toBe(
      15,
    );
    expect(findPrice(BUNDLED_PRICES, 'gpt-4o-mini-2024-07-18', 'openai')?.input).toBe(0.15);
    expect(findPrice(BUNDLED_PRICES, 'gpt-4o', 'openai')?.input).toBe(2.5);
    expect(findPrice(BUNDLED_PRICES, 'gpt-4.1-mini', 'openai')?.output).toBe(1.6);
    expect(findPrice(BUNDLED_PRICES, 'gemini-2.5-flash', 'google')?.output).toBe(2.5);
    expect(findPrice(BUNDLED_PRICES, 'fake-model', 'fake')).toBeUndefined();
    expect(findPrice(BUNDLED_PRICES, undefined)).toBeUndefined();
  });

  it('prices each kind of token; a kind without its own price costs input (reasoning: output)', () => {
    const p = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };
    expect(priceTokens(p, tokens())).toBeCloseTo(3 + 1.5 + 0.6 + 0.0375, 10);
    expect(priceTokens({ input: 1, output: 4 }, tokens({ reasoning: 1_000_000 }))).toBeCloseTo(
      1 + 0.4 + 2 + 0.01 + 4,
      10,
    );
  });

  it('estimates only tokens without a cost, and only for models it has a price for', () => {
    const estimate = createCostEstimator(BUNDLED_PRICES);
    const costed = tokens({ costUsd: 0.5, model: 'claude-sonnet-4-5' });
    const unknown = tokens({ model: 'fake-model', provider: 'fake' });
    const batch: PulseEvent[] = [costed, unknown];
    expect(estimate(batch)).toBe(batch);
    const free = tokens({ model: 'claude-sonnet-4-5', provider: 'anthropic' });
    const out = estimate([costed, free]);
    expect(out[0]).toBe(costed);
    expect(out[1]).toMatchObject({ costEstimated: true });
    expect((out[1] as LlmTokensEvent).costUsd).toBeCloseTo(3 + 1.5 + 0.6 + 0.0375, 10);
    expect(free.costEstimated).toBeUndefined();
  });
});

describe('PRICES_FILE', () => {
  const dir = tempDir('clawpulse-prices-');

  it('JSON or YAML overrides a bundled model and adds new ones; the rest stays', () => {
    const json = join(dir, 'p.json');
    writeFileSync(json, JSON.stringify({ anthropic: { 'claude-sonnet-4-5': { input: 2, output: 10 } } }));
    const t = loadPrices(json);
    expect(findPrice(t, 'claude-sonnet-4-5')).toEqual({ input: 2, output: 10 });
    expect(findPrice(t, 'claude-opus-4-1')?.input).toBe(15);
    const yaml = join(dir, 'p.yaml');
    writeFileSync(yaml, 'fake:\n  fake-model:\n    input: 1\n    output: 2\n    cacheRead: 0.1\n');
    expect(findPrice(loadPrices(yaml), 'fake-model', 'fake')).toEqual({
      input: 1,
      output: 2,
      cacheRead: 0.1,
    });
    expect(loadPrices(undefined)).toBe(BUNDLED_PRICES);
  });

  it('a bad file is an error naming the file and the entry', () => {
    const bad = (name: string, text: string) => {
      const f = join(dir, name);
      writeFileSync(f, text);
      return () => loadPrices(f);
    };
    expect(() => loadPrices(join(dir, 'missing.json'))).toThrow(
      /PRICES_FILE .*missing\.json cannot be read \(ENOENT\)/,
    );
    expect(bad('garbage.yaml', 'a: [1, 2\n  b: }')).toThrow(/is not valid JSON or YAML/);
    expect(bad('neg.json', '{"openai":{"gpt-4o":{"input":-1,"output":10}}}')).toThrow(
      /openai\.gpt-4o\.input: a number ≥ 0/,
    );
    expect(bad('str.json', '{"openai":{"gpt-4o":{"input":"2.5","output":10}}}')).toThrow(
      /openai\.gpt-4o\.input/,
    );
    expect(bad('extra.json', '{"openai":{"gpt-4o":{"input":1,"output":1,"cache":1}}}')).toThrow(
      /openai\.gpt-4o/,
    );
    expect(bad('list.json', '[1, 2]')).toThrow(PricesFileError);
  });
});

describe('a transcript whose records carry usage but no cost', () => {
  function run(file: string, prices = BUNDLED_PRICES) {
    const dir = tempDir('clawpulse-est-');
    const store = createSqliteStore(join(dir, 'store.sqlite'));
    const tracker = createSessionTracker(testLimits);
    const pipeline = createPipeline({
      store,
      tracker,
      logger: silentLogger,
      estimate: createCostEstimator(prices),
      usage: store.usage(),
    });
    const events: PulseEvent[] = [];
    streamTranscript(file, { events: (b) => events.push(...b) });
    pipeline.ingest(events);
    store.flush();
    return { store, tracker, events };
  }

  it('is priced from the bundled table and marked estimated on the event, the session, the aggregate and every view', () => {
    const file = transcriptWithoutCost(tempDir('clawpulse-t-'), 'anthropic', 'claude-sonnet-4-5');
    const { store, tracker, events } = run(file);
    const raw = events.filter((e): e is LlmTokensEvent => e.type === 'llm.tokens');
    expect(raw.length).toBeGreaterThan(2);
    expect(raw.every((e) => e.costUsd === 0)).toBe(true);
    // what the source said, priced by hand: input $3, output $15, cache read $0.30, cache write $3.75 per 1M
    const expected = raw.reduce(
      (a, e) => a + (e.input * 3 + e.output * 15 + e.cacheRead * 0.3 + e.cacheWrite * 3.75) / 1e6,
      0,
    );
    const stored = store.readAfter(0, 1000).map((s) => s.event);
    const priced = stored.filter((e): e is LlmTokensEvent => e.type === 'llm.tokens');
    expect(priced.every((e) => e.costEstimated === true)).toBe(true);
    const [s] = tracker.all().filter((x) => x.costUsd > 0);
    expect(s?.costEstimated).toBe(true);
    expect(s?.costUsd).toBeCloseTo(expected, 12);
    const [row] = store.usage().report({ by: 'session' });
    expect(row?.costUsd).toBeCloseTo(expected, 12);
    expect(row?.estimatedCostUsd).toBeCloseTo(expected, 12);
    if (!s) throw new Error('no session');
    expect(footerLine({ ...s, status: 'idle' }, s.lastEventAt, true)).toMatch(/\| ~\$0\.\d{2,4} est\.$/);
    expect(toReplayJson([s]).sessions[0]).toMatchObject({ costEstimated: true });
    store.close();
  });

  it('a model with no price stays at no cost, not estimated; PRICES_FILE can price it', () => {
    const file = transcriptWithoutCost(tempDir('clawpulse-t-'), 'fake', 'fake-model');
    const none = run(file);
    expect(none.tracker.all().some((s) => s.costUsd > 0 || s.costEstimated)).toBe(false);
    expect(none.store.usage().report({ by: 'day' })[0]?.estimatedCostUsd).toBe(0);
    none.store.close();
    const pf = join(tempDir('clawpulse-pf-'), 'prices.yaml');
    writeFileSync(pf, 'fake:\n  fake-model: { input: 1, output: 2 }\n');
    const priced = run(file, loadPrices(pf));
    const raw = priced.events.filter((e): e is LlmTokensEvent => e.type === 'llm.tokens');
    const expected = raw.reduce(
      (a, e) => a + (e.input * 1 + e.output * 2 + (e.cacheRead + e.cacheWrite) * 1) / 1e6,
      0,
    );
    expect(priced.store.usage().report({ by: 'day' })[0]?.estimatedCostUsd).toBeCloseTo(expected, 12);
    priced.store.close();
  });

  it('a source that gives a cost is never re-priced', () => {
    const { tracker, store } = run(FIXTURE.pathname);
    const s = tracker.all().find((x) => x.costUsd > 0);
    expect(s?.costEstimated).toBeUndefined();
    expect(store.usage().report({ by: 'day' })[0]?.estimatedCostUsd).toBe(0);
    store.close();
  });
});
