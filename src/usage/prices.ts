/**
 * The bundled price table: USD per 1M tokens, used only for token counts whose source gave no
 * cost (`estimate.ts`); such a cost is marked estimated everywhere it is shown.
 *
 * Where the figures come from: each provider's public list prices for standard (not batch)
 * API calls, as published on their pricing pages:
 * - Anthropic: https://docs.anthropic.com/en/docs/about-claude/pricing (base input, 5-minute
 *   cache writes, cache hits, output; the ≤ 200K-token context tier)
 * - OpenAI: https://openai.com/api/pricing and https://platform.openai.com/docs/pricing (input,
 *   cached input, output; OpenAI bills reasoning tokens as output, so reasoning = output)
 * - Google: https://ai.google.dev/gemini-api/docs/pricing (paid tier, prompts ≤ 200K tokens;
 *   context caching price as cache read; no separate cache write charge)
 * - DeepSeek: https://api-docs.deepseek.com/quick_start/pricing (cache miss / cache hit / output)
 * Prices change: PRICES_FILE (JSON or YAML, `prices-file.ts`) overrides or extends this table
 * without a new release.
 */

/** USD per 1M tokens of each kind; a kind left out costs what `input` (or for reasoning, `output`) does */
export interface ModelPrice {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
  reasoning?: number;
}

/** provider → model → price; models are matched as `model-id-prefix` (see `findPrice`) */
export type PriceTable = Record<string, Record<string, ModelPrice>>;

const anthropic = (input: number, output: number): ModelPrice => ({
  input,
  output,
  // 5-minute cache writes are 1.25x the base input price, cache hits 0.1x (Anthropic's table)
  cacheWrite: round(input * 1.25),
  cacheRead: round(input * 0.1),
});

const round = (x: number): number => Math.round(x * 1e6) / 1e6;

export const BUNDLED_PRICES: PriceTable = {
  anthropic: {
    'claude-opus-4-5': anthropic(5, 25),
    'claude-opus-4-1': anthropic(15, 75),
    'claude-opus-4': anthropic(15, 75),
    'claude-sonnet-4-5': anthropic(3, 15),
    'claude-sonnet-4': anthropic(3, 15),
    'claude-3-7-sonnet': anthropic(3, 15),
    'claude-3-5-sonnet': anthropic(3, 15),
    'claude-haiku-4-5': anthropic(1, 5),
    'claude-3-5-haiku': anthropic(0.8, 4),
    'claude-3-haiku': { input: 0.25, output: 1.25, cacheWrite: 0.3, cacheRead: 0.03 },
  },
  openai: {
    'gpt-5-nano': { input: 0.05, output: 0.4, cacheRead: 0.005 },
    'gpt-5-mini': { input: 0.25, output: 2, cacheRead: 0.025 },
    'gpt-5': { input: 1.25, output: 10, cacheRead: 0.125 },
    'gpt-4.1-nano': { input: 0.1, output: 0.4, cacheRead: 0.025 },
    'gpt-4.1-mini': { input: 0.4, output: 1.6, cacheRead: 0.1 },
    'gpt-4.1': { input: 2, output: 8, cacheRead: 0.5 },
    'gpt-4o-mini': { input: 0.15, output: 0.6, cacheRead: 0.075 },
    'gpt-4o': { input: 2.5, output: 10, cacheRead: 1.25 },
    'o4-mini': { input: 1.1, output: 4.4, cacheRead: 0.275 },
    'o3-mini': { input: 1.1, output: 4.4, cacheRead: 0.55 },
    o3: { input: 2, output: 8, cacheRead: 0.5 },
    o1: { input: 15, output: 60, cacheRead: 7.5 },
  },
  google: {
    'gemini-2.5-pro': { input: 1.25, output: 10, cacheRead: 0.31 },
    'gemini-2.5-flash-lite': { input: 0.1, output: 0.4, cacheRead: 0.025 },
    'gemini-2.5-flash': { input: 0.3, output: 2.5, cacheRead: 0.075 },
    'gemini-2.0-flash-lite': { input: 0.075, output: 0.3 },
    'gemini-2.0-flash': { input: 0.1, output: 0.4, cacheRead: 0.025 },
  },
  deepseek: {
    'deepseek-chat': { input: 0.27, output: 1.1, cacheRead: 0.07 },
    'deepseek-reasoner': { input: 0.55, output: 2.19, cacheRead: 0.14 },
  },
};

/** provider names OpenClaw and gateways use for the same price list */
const PROVIDER_ALIASES: Record<string, string> = {
  'openai-codex': 'openai',
  'azure-openai': 'openai',
  'google-vertex': 'google',
  'google-gemini': 'google',
  gemini: 'google',
  vertex: 'google',
  'anthropic-vertex': 'anthropic',
  bedrock: 'anthropic',
  'amazon-bedrock': 'anthropic',
};

/** "claude-sonnet-4.5", "anthropic/claude-sonnet-4-5-20250929", "us.anthropic.claude-…" → "claude-sonnet-4-5-20250929" */
export function normalizeModelId(model: string): string {
  let m = model.trim().toLowerCase();
  const slash = m.lastIndexOf('/');
  if (slash >= 0) m = m.slice(slash + 1);
  m = m.replace(/^(?:[a-z]{2}\.)?anthropic\./, '');
  return m.replace(/(\d)\.(\d)/g, '$1-$2').replace(/@/g, '-');
}

/** the price of a model: the longest table entry its id starts with (dated ids match their family) */
export function findPrice(
  table: PriceTable,
  model: string | undefined,
  provider?: string,
): ModelPrice | undefined {
  if (!model) return undefined;
  const id = normalizeModelId(model);
  // dots in table keys (gpt-4.1) are matched the same way as in ids
  const p = provider?.trim().toLowerCase();
  const providers = p ? [PROVIDER_ALIASES[p] ?? p, ...Object.keys(table)] : Object.keys(table);
  for (const name of new Set(providers)) {
    const models = table[name];
    if (!models) continue;
    let best: string | undefined;
    for (const key of Object.keys(models)) {
      const k = normalizeModelId(key);
      if ((id === k || id.startsWith(`${k}-`)) && (!best || k.length > normalizeModelId(best).length))
        best = key;
    }
    if (best) return models[best];
  }
  return undefined;
}
