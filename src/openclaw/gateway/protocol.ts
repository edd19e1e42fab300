/**
 * The gateway handshake: the `connect` request we send after `connect.challenge`, reading the
 * `hello-ok` reply, and turning a rejected connect into a message a person can act on.
 *
 * We connect as the loopback backend helper (`client.id: "gateway-client"`, `mode: "backend"`)
 * with the shared gateway token and no device identity. Both 2026.7.35 and 2026.9.6 accept that
 * on loopback and negotiate protocol 4. The caller names the scopes: one connection serves both
 * the gateway source (sessions.subscribe, sessions.list, chat.history: read scope) and dispatch
 * (starting and steering runs: write and admin scopes), so all three are the default.
 */
import { type GatewayErrorShape, isObj, num, type Obj, str } from './frames.js';

/** the protocol versions this client speaks: v3 (≤ 2026.6) and v4 (2026.7+) */
export const MIN_PROTOCOL = 3;
export const MAX_PROTOCOL = 4;
export const DEFAULT_TICK_INTERVAL_MS = 30_000;
export const DEFAULT_SCOPES: readonly string[] = ['operator.read', 'operator.write', 'operator.admin'];

export interface ConnectOptions {
  token?: string;
  clientVersion: string;
  platform: string;
  /** default DEFAULT_SCOPES */
  scopes?: readonly string[];
}

export function connectParams(o: ConnectOptions): Obj {
  const params: Obj = {
    minProtocol: MIN_PROTOCOL,
    maxProtocol: MAX_PROTOCOL,
    client: { id: 'gateway-client', version: o.clientVersion, platform: o.platform, mode: 'backend' },
    role: 'operator',
    scopes: [...(o.scopes ?? DEFAULT_SCOPES)],
    // without this cap the gateway keeps `stream:"tool"` events for the run's own starter
    caps: ['tool-events'],
    userAgent: `clawpulse/${o.clientVersion}`,
  };
  if (o.token) params.auth = { token: o.token };
  return params;
}

export interface Hello {
  protocol: number;
  tickIntervalMs: number;
  serverVersion?: string;
  connId?: string;
  scopes?: string[];
  /** hello-ok features.methods: the methods this gateway serves (absent when it did not say) */
  methods?: string[];
}

export function readHello(payload: unknown): Hello | { error: string } {
  if (!isObj(payload)) return { error: 'connect reply has no payload' };
  if (payload.type !== undefined && payload.type !== 'hello-ok')
    return { error: `unexpected connect reply ${String(payload.type)}` };
  const protocol = num(payload.protocol);
  if (protocol === undefined) return { error: 'hello-ok without protocol' };
  const policy = isObj(payload.policy) ? payload.policy : {};
  const tick = num(policy.tickIntervalMs);
  const hello: Hello = { protocol, tickIntervalMs: tick && tick > 0 ? tick : DEFAULT_TICK_INTERVAL_MS };
  const server = isObj(payload.server) ? payload.server : {};
  const version = str(server.version);
  if (version) hello.serverVersion = version;
  const connId = str(server.connId);
  if (connId) hello.connId = connId;
  const auth = isObj(payload.auth) ? payload.auth : {};
  if (Array.isArray(auth.scopes))
    hello.scopes = auth.scopes.filter((x): x is string => typeof x === 'string');
  const features = isObj(payload.features) ? payload.features : {};
  if (Array.isArray(features.methods))
    hello.methods = features.methods.filter((x): x is string => typeof x === 'string');
  return hello;
}

export type ConnectFailureKind = 'auth' | 'protocol' | 'other';

export interface ConnectFailure {
  kind: ConnectFailureKind;
  /** for people: what went wrong and what to check; never contains the token */
  message: string;
  /** the server's protocol range when it told us */
  serverRange?: { min?: number; max?: number };
}

const AUTH_RE = /auth|token|unauthori[sz]ed|forbidden|credential|password|pairing/i;
const PROTOCOL_RE = /protocol/i;

/**
 * Classifies a rejected `connect`. `tokenOrigin` says where our token came from
 * (e.g. "OPENCLAW_GATEWAY_TOKEN" or "gateway.auth.token in /x/openclaw.json").
 */
export function describeConnectFailure(
  err: GatewayErrorShape | undefined,
  tokenOrigin: string,
  token?: string,
): ConnectFailure {
  const code = err?.code ?? '';
  const serverMsg = redact(err?.message ?? 'connect rejected', token);
  const details = isObj(err?.details) ? err.details : {};
  if (
    PROTOCOL_RE.test(code) ||
    PROTOCOL_RE.test(serverMsg) ||
    'expectedProtocol' in details ||
    'minProtocol' in details
  ) {
    const range = serverProtocolRange(details, serverMsg);
    const theirs =
      range.min !== undefined || range.max !== undefined
        ? `the gateway speaks protocol ${formatRange(range.min, range.max)}`
        : 'the gateway did not say which protocol versions it speaks';
    return {
      kind: 'protocol',
      message: `protocol mismatch: clawpulse speaks gateway protocol ${MIN_PROTOCOL}-${MAX_PROTOCOL}, ${theirs} (${serverMsg})`,
      serverRange: range,
    };
  }
  if (AUTH_RE.test(code) || AUTH_RE.test(serverMsg)) {
    return {
      kind: 'auth',
      message: `gateway rejected the token from ${tokenOrigin} (${code ? `${code}: ` : ''}${serverMsg})`,
    };
  }
  return { kind: 'other', message: `gateway refused connect: ${code ? `${code}: ` : ''}${serverMsg}` };
}

/** a hello-ok that negotiated a version we do not speak (an old gateway may ignore our range) */
export function protocolOutOfRange(protocol: number): ConnectFailure | undefined {
  if (protocol >= MIN_PROTOCOL && protocol <= MAX_PROTOCOL) return undefined;
  return {
    kind: 'protocol',
    message: `protocol mismatch: clawpulse speaks gateway protocol ${MIN_PROTOCOL}-${MAX_PROTOCOL}, the gateway chose protocol ${protocol}`,
    serverRange: { min: protocol, max: protocol },
  };
}

function serverProtocolRange(details: Obj, msg: string): { min?: number; max?: number } {
  const exact = num(details.expectedProtocol) ?? num(details.protocol) ?? num(details.serverProtocol);
  const min = num(details.minProtocol) ?? num(details.serverMinProtocol) ?? exact;
  const max = num(details.maxProtocol) ?? num(details.serverMaxProtocol) ?? exact;
  if (min !== undefined || max !== undefined) return { min, max };
  // "expected protocol 4" / "server supports 4-5" in the message text
  const m = /(?:expected|supports?|server)\D{0,20}(\d+)(?:\s*(?:-|\.\.|to)\s*(\d+))?/i.exec(msg);
  if (m?.[1]) return { min: Number(m[1]), max: Number(m[2] ?? m[1]) };
  return {};
}

function formatRange(min?: number, max?: number): string {
  if (min === undefined) return `≤${max}`;
  if (max === undefined) return `≥${min}`;
  return min === max ? String(min) : `${min}-${max}`;
}

function redact(text: string, token?: string): string {
  return token && token.length >= 4 ? text.split(token).join('[redacted]') : text;
}
