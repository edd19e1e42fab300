/**
 * The daemon's own health, for the header chip and the banners: /health polled every few
 * seconds (with the dashboard's cookie, so a token-protected daemon shows the full report).
 * Each source that is down or blind and each sink that is failing becomes one problem with its
 * reason and the setting that fixes it.
 */
import { useEffect, useState } from 'react';
import type { SourceHealth } from '../../src/ingest/source.js';
import type { HealthReport, SinkHealth } from '../../src/server/health.js';

export const HEALTH_POLL_MS = 5000;

export type HealthStatus = HealthReport['status'];

/** one host writing into the shared store, as `clawpulse serve` reports it */
export interface FleetHost {
  host: string;
  hostname?: string;
  pid?: number;
  /** its daemon's last heartbeat (ms) */
  heartbeatAt: number;
  /** no heartbeat for too long: what the view shows of it may be out of date */
  stale: boolean;
  lastSeq: number;
  sources: SourceHealth[];
}

/** the report, or only its status when this client may not see the rest */
export type HealthView = Partial<HealthReport> & {
  status: HealthStatus;
  /** the fleet view (`clawpulse serve`): every host's daemon and its sources */
  fleet?: { hosts: FleetHost[] };
};

export interface Problem {
  id: string;
  /** 'down': nothing comes from it; 'warn': it runs but something is wrong */
  level: 'down' | 'warn';
  title: string;
  reason: string;
  fix: string;
}

const AUTH = /token|auth|unauthori[sz]ed|forbidden|\b40[13]\b|pairing|rejected/i;

/** `gateway:<name>`: one of OPENCLAW_GATEWAYS */
export const gatewayName = (id: string): string | undefined =>
  id.startsWith('gateway:') ? id.slice('gateway:'.length) : undefined;

function sourceFix(s: SourceHealth, reason: string): string {
  const named = gatewayName(s.id);
  if (named !== undefined) {
    return AUTH.test(reason)
      ? `Set the token of the gateway "${named}" in OPENCLAW_GATEWAYS, then restart clawpulse.`
      : `Start the gateway "${named}", or fix its URL in OPENCLAW_GATEWAYS (a remote one needs wss:// and a token).`;
  }
  switch (s.kind) {
    case 'gateway':
      return AUTH.test(reason)
        ? 'Set OPENCLAW_GATEWAY_TOKEN to the gateway token (gateway.auth.token in openclaw.json), then restart clawpulse.'
        : 'Start the OpenClaw gateway, or set OPENCLAW_GATEWAY_URL to where it listens (ws://host:18789) and OPENCLAW_GATEWAY_TOKEN to its token. Until then clawpulse follows the state dir.';
    case 'files':
    case 'sqlite':
      return "Set OPENCLAW_STATE_DIR to OpenClaw's state dir (the folder holding agents/, by default ~/.openclaw), then restart clawpulse.";
    case 'otlp':
      return 'Check OTLP_TOKEN and that HEALTH_PORT is not 0.';
    default:
      return 'See the daemon log (clawpulse start prints it).';
  }
}

function sinkFix(s: SinkHealth, reason: string): string {
  switch (s.kind) {
    case 'mattermost':
      return AUTH.test(reason) && !/ECONN|ENOTFOUND|EHOST|timed? ?out|fetch failed/i.test(reason)
        ? 'Set MM_TOKEN to a bot token that may post in the channel.'
        : 'Set MM_URL to the Mattermost base URL (https://chat.example.com) and MM_TOKEN to a bot token; check that this host can reach it.';
    case 'loki':
      return 'Check LOKI_PUSH_URL (and its credentials) and that Loki is reachable.';
    case 'webhook':
      return 'Check DISPATCH_WEBHOOK_URL and that the receiver answers 2xx.';
    default:
      return `Check the ${s.kind} output's URL and credentials.`;
  }
}

/** a sink is failing when its breaker is open, it says so, or it failed since it last succeeded (or never did) */
function sinkTrouble(s: SinkHealth): string | undefined {
  const d = s.detail ?? {};
  const state = typeof d.state === 'string' ? d.state : undefined;
  const reason = typeof d.reason === 'string' ? d.reason : undefined;
  if (state === 'disabled' || state === 'stopped') return undefined;
  const failingNow =
    s.breaker !== 'closed' ||
    state === 'degraded' ||
    (s.lastErrorAt !== undefined && (s.lastSuccessAt === undefined || s.lastErrorAt > s.lastSuccessAt)) ||
    (s.failures > 0 && s.lastSuccessAt === undefined);
  if (!failingNow) return undefined;
  const never = s.lastSuccessAt === undefined ? 'never answered' : `breaker ${s.breaker}`;
  return reason ?? s.lastError ?? never;
}

export function problemsOf(h: HealthView | undefined): Problem[] {
  if (!h) return [];
  const out: Problem[] = [];
  for (const s of h.sources ?? []) {
    const named = gatewayName(s.id);
    if (named !== undefined && s.state === 'down') {
      const reason = s.detail ?? 'down';
      out.push({
        id: `source:${s.id}`,
        level: 'down',
        title: `gateway "${named}" down`,
        reason,
        fix: sourceFix(s, reason),
      });
    } else if (s.state === 'down') {
      const reason = s.detail ?? 'down';
      out.push({
        id: `source:${s.id}`,
        level: 'down',
        title: `${s.id} source down`,
        reason,
        fix: sourceFix(s, reason),
      });
    } else if (s.problem && s.state !== 'stopped') {
      out.push({
        id: `source:${s.id}`,
        level: 'warn',
        title: `${s.id} source sees nothing`,
        reason: s.problem,
        fix: sourceFix(s, s.problem),
      });
    }
  }
  for (const s of h.sinks ?? []) {
    const reason = sinkTrouble(s);
    if (!reason) continue;
    const name = s.kind === 'mattermost' ? 'Mattermost status boxes' : `${s.id} output`;
    const never = s.lastSuccessAt === undefined;
    out.push({
      id: `sink:${s.id}`,
      level: never ? 'down' : 'warn',
      title: never
        ? s.kind === 'mattermost'
          ? 'Mattermost status boxes off: Mattermost never answered'
          : `${name}: nothing delivered yet`
        : `${name} failing`,
      reason,
      fix: sinkFix(s, reason),
    });
  }
  for (const host of h.fleet?.hosts ?? []) {
    if (!host.stale) continue;
    out.push({
      id: `host:${host.host}`,
      level: 'warn',
      title: `host ${host.host} stale`,
      reason: `no heartbeat from its daemon since ${new Date(host.heartbeatAt).toLocaleTimeString()}: its sessions may be out of date`,
      fix: `Check that clawpulse runs on ${host.hostname ?? host.host} and reaches the shared store (CLAWPULSE_STORE).`,
    });
  }
  const st = h.store as { error?: string } | undefined;
  if (st?.error) {
    out.push({
      id: 'store',
      level: 'warn',
      title: 'event store failing',
      reason: st.error,
      fix: 'Check the disk and CLAWPULSE_HOME (or CLAWPULSE_DB): the live view goes on, history is not kept.',
    });
  }
  return out;
}

/** the daemon's health, fetched now and every HEALTH_POLL_MS; `undefined` until the first answer */
export function useHealth(url = '/health'): HealthView | undefined {
  const [h, setH] = useState<HealthView>();
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        // 503 answers 'down' with the same body
        const r = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
        const body = (await r.json()) as HealthView;
        if (!stopped && body && typeof body.status === 'string') setH(body);
      } catch {
        // the daemon is gone: the stream's chip says "reconnecting"
      }
      if (!stopped) timer = setTimeout(poll, HEALTH_POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [url]);
  return h;
}
