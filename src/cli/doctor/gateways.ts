/**
 * Doctor: each gateway named in OPENCLAW_GATEWAYS: reachable, its token accepted, the scopes we
 * ask for granted. A listed gateway is expected to answer (a failure, not a warning); a remote
 * plain ws:// URL is a warning even when it answers (its token travels unencrypted).
 */
import type { Config } from '../../config/config.js';
import { type GatewayEntry, tokenVariable } from '../../config/gateways.js';
import { withGateway } from '../../gateway/connection.js';
import { silentLogger } from '../../infra/logger.js';
import { DEFAULT_SCOPES } from '../../openclaw/gateway/protocol.js';
import { type CheckResult, fail, ok, warn } from './report.js';

const TLS_FIX = 'use wss:// (TLS at the gateway or a proxy in front of it), or a tunnel to a loopback port';

export function checkNamedGateways(config: Readonly<Config>, timeoutMs = 5000): Promise<CheckResult[]> {
  return Promise.all(config.sources.gateways.map((g) => checkOne(g, timeoutMs)));
}

async function checkOne(g: GatewayEntry, timeoutMs: number): Promise<CheckResult> {
  const name = `gateway ${g.name}`;
  const plain = g.warning ? `; ${g.warning}` : '';
  const tokenFix = `set ${tokenVariable(g.name)} (or token/tokenFile in the gateways file) to gateway.auth.token of that gateway’s openclaw.json`;
  let hello: Awaited<ReturnType<typeof probe>>;
  function probe() {
    return withGateway(
      { url: g.url, token: g.token, logger: silentLogger, name: 'doctor', timeoutMs },
      async (c) => c.ready(),
    );
  }
  try {
    hello = await probe();
  } catch (err) {
    const msg = (err as Error).message;
    if (/rejected the token|unauthori[sz]ed|token mismatch|pairing/i.test(msg))
      return fail(
        name,
        `${g.url} refused our token (from ${g.tokenFrom ?? 'nowhere'}): ${msg}${plain}`,
        tokenFix,
      );
    if (/protocol/i.test(msg))
      return fail(
        name,
        `${g.url}: ${msg}`,
        'upgrade clawpulse (npm install -g clawpulse@latest) or OpenClaw',
      );
    return fail(
      name,
      `${g.url} not reachable (${msg})${plain}`,
      'start that gateway, or fix its URL in OPENCLAW_GATEWAYS (a gateway listed there is expected to answer)',
    );
  }
  const server = hello.serverVersion ? `OpenClaw ${hello.serverVersion}, ` : '';
  const base = `${g.url}: ${server}protocol ${hello.protocol}, token from ${g.tokenFrom ?? 'nowhere'}`;
  const missing = hello.scopes ? DEFAULT_SCOPES.filter((s) => !hello.scopes?.includes(s)) : [];
  if (missing.length)
    return fail(name, `${base}; scopes not granted: ${missing.join(', ')}${plain}`, tokenFix);
  if (g.warning) return warn(name, `${base}${plain}`, TLS_FIX);
  return ok(name, base);
}
