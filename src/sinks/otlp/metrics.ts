/**
 * Agent metrics from the event stream and the model: tokens by kind, cost, runs, tool calls,
 * errors (cumulative since the daemon started), active and stuck sessions (gauges), by agent,
 * model, channel and host. The same numbers go out as OTLP metrics and on /metrics.
 */
import type { PulseEvent } from '../../model/events.js';
import type { SessionState } from '../../model/session.js';
import type { MetricRec } from './encode.js';
import { ATTR_GEN_AI_REQUEST_MODEL, ATTR_GEN_AI_TOKEN_TYPE, ATTR_HOST_NAME, OC } from './semconv.js';

interface Who {
  agent: string;
  model: string;
  channel: string;
  status?: SessionState['status'];
}

interface Series {
  labels: Record<string, string>;
  value: number;
}

type Name = 'tokens' | 'cost' | 'runs' | 'tools' | 'errors';

const DEFS: Record<
  Name,
  { otel: string; prom: string; unit: string; help: string; int: boolean; extra: string[] }
> = {
  tokens: {
    otel: 'clawpulse.tokens',
    prom: 'clawpulse_tokens_total',
    unit: '{token}',
    help: 'Tokens used, by kind (input, output, cache_read, cache_write, reasoning).',
    int: true,
    extra: ['kind'],
  },
  cost: {
    otel: 'clawpulse.cost.usd',
    prom: 'clawpulse_cost_usd_total',
    unit: 'USD',
    help: 'Model cost in US dollars, as OpenClaw reports it.',
    int: false,
    extra: [],
  },
  runs: {
    otel: 'clawpulse.runs',
    prom: 'clawpulse_runs_total',
    unit: '{run}',
    help: 'Agent runs (turns) that ended, by outcome.',
    int: true,
    extra: ['outcome'],
  },
  tools: {
    otel: 'clawpulse.tool_calls',
    prom: 'clawpulse_tool_calls_total',
    unit: '{call}',
    help: 'Tool calls that ended, by tool and outcome.',
    int: true,
    extra: ['tool', 'outcome'],
  },
  errors: {
    otel: 'clawpulse.errors',
    prom: 'clawpulse_errors_total',
    unit: '{error}',
    help: 'Errors: model (by status, e.g. 529), tool, run.',
    int: true,
    extra: ['kind', 'status'],
  },
};

/** label name → OTLP attribute name */
const OTEL_ATTR: Record<string, string> = {
  agent: OC.agent,
  model: ATTR_GEN_AI_REQUEST_MODEL,
  channel: OC.channel,
  host: ATTR_HOST_NAME,
  kind: ATTR_GEN_AI_TOKEN_TYPE,
  outcome: OC.outcome,
  tool: 'gen_ai.tool.name',
  status: 'error.type',
};

const MAX_SERIES = 10_000;

export class AgentMetrics {
  private readonly series = new Map<Name, Map<string, Series>>();
  private readonly sessions = new Map<string, Who>();

  constructor(private readonly host: string) {
    for (const n of Object.keys(DEFS) as Name[]) this.series.set(n, new Map());
  }

  private who(key: string, agentId: string): Who {
    let w = this.sessions.get(key);
    if (!w) {
      w = { agent: agentId, model: '', channel: '' };
      this.sessions.set(key, w);
    }
    return w;
  }

  private add(name: Name, w: Who, extra: Record<string, string>, v: number, model?: string): void {
    if (!(v > 0) || !Number.isFinite(v)) return;
    const mdl = model || w.model;
    // a plain joined key: JSON.stringify of the labels per token kind was most of this cost
    let id = `${w.agent}\u0001${mdl}\u0001${w.channel}`;
    for (const k in extra) id += `\u0001${extra[k]}`;
    const m = this.series.get(name) as Map<string, Series>;
    const s = m.get(id);
    if (s) s.value += v;
    else if (m.size < MAX_SERIES)
      m.set(id, {
        labels: { agent: w.agent, model: mdl, channel: w.channel, host: this.host, ...extra },
        value: v,
      });
  }

  /** the tracker's view of sessions (model, channel, status) */
  observe(s: SessionState): void {
    const w = this.who(s.key, s.agentId);
    if (s.model) w.model = s.model;
    if (s.channel?.provider) w.channel = s.channel.provider;
    w.status = s.status;
  }

  remove(key: string): void {
    this.sessions.delete(key);
  }

  apply(e: PulseEvent): void {
    const w = this.who(e.sessionKey, e.agentId);
    switch (e.type) {
      case 'session.seen':
        if (e.channel?.provider) w.channel = e.channel.provider;
        if (e.model) w.model = e.model;
        return;
      case 'agent.step_started':
        if (e.model) w.model = e.model;
        return;
      case 'llm.tokens':
        if (e.model) w.model = e.model;
        this.add('tokens', w, { kind: 'input' }, e.input, e.model);
        this.add('tokens', w, { kind: 'output' }, e.output, e.model);
        this.add('tokens', w, { kind: 'cache_read' }, e.cacheRead, e.model);
        this.add('tokens', w, { kind: 'cache_write' }, e.cacheWrite, e.model);
        this.add('tokens', w, { kind: 'reasoning' }, e.reasoning ?? 0, e.model);
        this.add('cost', w, {}, e.costUsd, e.model);
        return;
      case 'agent.finished':
        this.add('runs', w, { outcome: e.outcome }, 1);
        if (e.outcome === 'error') this.add('errors', w, { kind: 'run', status: '' }, 1);
        return;
      case 'tool.output':
        this.add('tools', w, { tool: e.name, outcome: 'ok' }, 1);
        return;
      case 'tool.error':
        this.add('tools', w, { tool: e.name, outcome: 'error' }, 1);
        this.add('errors', w, { kind: 'tool', status: '' }, 1);
        return;
      case 'llm.error':
        this.add('errors', w, { kind: 'model', status: e.status !== undefined ? String(e.status) : '' }, 1);
        return;
      default:
        return;
    }
  }

  private gauges(): Array<{ name: 'active' | 'stuck'; rows: Series[] }> {
    const by = { active: new Map<string, Series>(), stuck: new Map<string, Series>() };
    for (const w of this.sessions.values()) {
      const g = w.status === 'active' ? by.active : w.status === 'stuck' ? by.stuck : undefined;
      if (!g) continue;
      const labels = { agent: w.agent, model: w.model, channel: w.channel, host: this.host };
      const id = JSON.stringify(labels);
      const s = g.get(id);
      if (s) s.value++;
      else g.set(id, { labels, value: 1 });
    }
    return [
      { name: 'active', rows: [...by.active.values()] },
      { name: 'stuck', rows: [...by.stuck.values()] },
    ];
  }

  toOtlp(): MetricRec[] {
    const attrs = (l: Record<string, string>) => {
      const a: Record<string, string> = {};
      for (const [k, v] of Object.entries(l)) if (v !== '') a[OTEL_ATTR[k] ?? k] = v;
      return a;
    };
    const out: MetricRec[] = [];
    for (const [n, d] of Object.entries(DEFS) as Array<[Name, (typeof DEFS)[Name]]>) {
      const rows = [...(this.series.get(n) as Map<string, Series>).values()];
      out.push({
        name: d.otel,
        description: d.help,
        unit: d.unit,
        kind: 'sum',
        int: d.int,
        points: rows.map((r) => ({ attrs: attrs(r.labels), value: r.value })),
      });
    }
    for (const g of this.gauges()) {
      out.push({
        name: `clawpulse.sessions.${g.name}`,
        description: `Sessions ${g.name === 'active' ? 'running' : 'stuck (no progress while a run or tool is open)'} now.`,
        unit: '{session}',
        kind: 'gauge',
        int: true,
        points: g.rows.map((r) => ({ attrs: attrs(r.labels), value: r.value })),
      });
    }
    return out;
  }

  toPrometheus(): string {
    const out: string[] = [];
    const line = (name: string, l: Record<string, string>, v: number) =>
      `${name}{${Object.entries(l)
        .map(([k, x]) => `${k}="${esc(x)}"`)
        .join(',')}} ${v}`;
    for (const [n, d] of Object.entries(DEFS) as Array<[Name, (typeof DEFS)[Name]]>) {
      out.push(`# HELP ${d.prom} ${d.help}`, `# TYPE ${d.prom} counter`);
      for (const r of (this.series.get(n) as Map<string, Series>).values())
        out.push(line(d.prom, r.labels, d.int ? r.value : Number(r.value.toFixed(9))));
    }
    for (const g of this.gauges()) {
      const name = `clawpulse_sessions_${g.name}`;
      out.push(
        `# HELP ${name} Sessions ${g.name === 'active' ? 'running' : 'stuck'} now, by agent, model, channel and host.`,
        `# TYPE ${name} gauge`,
      );
      for (const r of g.rows) out.push(line(name, r.labels, r.value));
    }
    return `${out.join('\n')}\n`;
  }
}

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
