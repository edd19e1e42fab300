/** Doctor: the OpenClaw gateway: reachable, our token accepted, the scopes we ask for granted. */
import type { Config } from '../../config/config.js';
import { withGateway } from '../../gateway/connection.js';
import { silentLogger } from '../../infra/logger.js';
import { resolveGatewayToken } from '../../openclaw/gateway/config-token.js';
import { DEFAULT_SCOPES } from '../../openclaw/gateway/protocol.js';
import { type CheckResult, fail, ok, warn } from './report.js';

export async function checkGateway(config: Readonly<Config>, timeoutMs = 5000): Promise<CheckResult> {
  const { gatewayUrl: url, gatewayToken, stateDir, mode } = config.sources;
  const name = 'gateway';
  // SOURCES=auto also reads SQLite and files: a gateway that is down is then not fatal
  const required = mode !== 'auto' && (mode === 'all' || mode.includes('gateway'));
  const token = resolveGatewayToken({ token: gatewayToken, stateDir });
  let hello: Awaited<ReturnType<typeof probe>>;
  async function probe() {
    return withGateway(
      { url, token: gatewayToken, stateDir, logger: silentLogger, name: 'doctor', timeoutMs },
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
        `${url} refused our token (from ${token.origin}): ${msg}`,
        'set OPENCLAW_GATEWAY_TOKEN to gateway.auth.token of the gateway’s openclaw.json (or point OPENCLAW_STATE_DIR at that state dir)',
      );
    if (/protocol/i.test(msg))
      return fail(name, `${url}: ${msg}`, 'upgrade clawpulse (npm install -g clawpulse@latest) or OpenClaw');
    const detail = `${url} not reachable (${msg})`;
    const fix =
      'start the gateway (openclaw gateway, or its service), or set OPENCLAW_GATEWAY_URL to where it listens';
    return required
      ? fail(name, detail, fix)
      : warn(
          name,
          `${detail}; SQLite and transcript files are still read`,
          `${fix}; live events and dispatch need it`,
        );
  }
  const server = hello.serverVersion ? `OpenClaw ${hello.serverVersion}, ` : '';
  const base = `${url}: ${server}protocol ${hello.protocol}, token from ${token.origin}`;
  if (!hello.scopes) return ok(name, `${base} (the gateway did not list granted scopes)`);
  const missing = DEFAULT_SCOPES.filter((s) => !hello.scopes?.includes(s));
  if (missing.length)
    return fail(
      name,
      `${base}; scopes not granted: ${missing.join(', ')} (granted: ${hello.scopes.join(', ') || 'none'})`,
      'use the gateway’s own token (gateway.auth.token), which grants operator read, write and admin; read is needed to follow sessions, write and admin for dispatch, steer and abort',
    );
  return ok(name, `${base}; scopes ${hello.scopes.join(', ')}`);
}
