/**
 * Where the sessions come from, when there is more than one place: every host of the fleet view
 * (`clawpulse serve`: /health `fleet.hosts`) with its heartbeat and its sources, a stale host
 * marked, and the gateways of OPENCLAW_GATEWAYS (`gateway:<name>` sources) one chip each.
 * Nothing shows for one daemon following one OpenClaw: the chip and the banners say enough.
 */
import type { SourceHealth } from '../../src/ingest/source.js';
import { fmtDuration } from './format.js';
import { type FleetHost, gatewayName, type HealthView } from './health.js';
import { useNow } from './hooks.js';

function SourceChip({ s }: { s: SourceHealth }) {
  const named = gatewayName(s.id);
  return (
    <span
      className={`src-chip src-${s.state}`}
      data-testid="source-chip"
      data-source={s.id}
      data-state={s.state}
      title={[s.detail, s.problem].filter(Boolean).join(' · ') || s.state}
    >
      {named !== undefined ? `gateway ${named}` : s.id} <b>{s.state}</b>
    </span>
  );
}

function HostRow({ h, now }: { h: FleetHost; now: number }) {
  const age = Math.max(0, now - h.heartbeatAt);
  return (
    <li
      className={h.stale ? 'fleet-host stale' : 'fleet-host'}
      data-testid="fleet-host"
      data-host={h.host}
      data-stale={h.stale}
    >
      <b className="fleet-name" title={[h.hostname, h.pid && `pid ${h.pid}`].filter(Boolean).join(' · ')}>
        {h.host}
      </b>
      {h.stale && (
        <span className="badge st-stuck" data-testid="stale">
          stale
        </span>
      )}
      <span className="muted small">
        heartbeat {fmtDuration(age)} ago · seq {h.lastSeq}
      </span>
      {h.sources.map((s) => (
        <SourceChip key={s.id} s={s} />
      ))}
    </li>
  );
}

export function FleetHealth({ health }: { health: HealthView | undefined }) {
  const now = useNow();
  const hosts = health?.fleet?.hosts ?? [];
  const gateways = (health?.sources ?? []).filter((s) => gatewayName(s.id) !== undefined);
  if (!hosts.length && gateways.length < 2) return null;
  return (
    <section className="fleet" data-testid="fleet" aria-label="hosts and sources">
      {hosts.length > 0 && (
        <ul className="fleet-hosts">
          {hosts.map((h) => (
            <HostRow key={h.host} h={h} now={now} />
          ))}
        </ul>
      )}
      {gateways.length >= 2 && (
        <div className="fleet-gateways" data-testid="gateways">
          {gateways.map((s) => (
            <SourceChip key={s.id} s={s} />
          ))}
        </div>
      )}
    </section>
  );
}
