/**
 * Doctor: the HTTP outputs a user configures by URL (Loki and the webhook for dispatch events,
 * the OTLP collector's endpoints): does something answer there. Any HTTP answer counts (a push
 * API may refuse a bare request); no answer within the timeout, or a refused connection, is
 * the problem. The URL is shown without its userinfo or query (either may hold a credential).
 */
import type { Config } from '../../config/config.js';
import { type CheckResult, fail, ok } from './report.js';

interface Target {
  name: string;
  url: string;
  variable: string;
}

export function outputTargets(config: Readonly<Config>): Target[] {
  const out: Target[] = [];
  if (config.dispatch.lokiUrl)
    out.push({ name: 'Loki', url: config.dispatch.lokiUrl, variable: 'LOKI_PUSH_URL' });
  if (config.dispatch.webhookUrl)
    out.push({ name: 'dispatch webhook', url: config.dispatch.webhookUrl, variable: 'DISPATCH_WEBHOOK_URL' });
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    const t = config.otlp[signal];
    if (t) out.push({ name: `OTLP ${signal}`, url: t.url, variable: 'OTEL_EXPORTER_OTLP_ENDPOINT' });
  }
  return out;
}

function shown(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** the URL without userinfo: fetch refuses one with credentials (and would quote it in its error) */
function bare(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

async function checkOne(t: Target, timeoutMs: number): Promise<CheckResult> {
  try {
    const res = await fetch(bare(t.url), { method: 'GET', signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return ok(t.name, `${shown(t.url)} answers (HTTP ${res.status})`);
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string }; message?: string };
    const why =
      e.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (e.cause?.code ?? e.message ?? String(err));
    return fail(t.name, `${shown(t.url)}: ${why}`, `start it, or fix or unset ${t.variable}`);
  }
}

export async function checkOutputs(config: Readonly<Config>, timeoutMs: number): Promise<CheckResult[]> {
  return Promise.all(outputTargets(config).map((t) => checkOne(t, timeoutMs)));
}
