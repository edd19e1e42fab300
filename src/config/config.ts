/**
 * Configuration: environment variables (the original Live Status daemon's names and defaults,
 * plus clawpulse's own), validated once into one frozen Config. Nothing is required: without
 * Mattermost the daemon still follows OpenClaw, stores history and serves the dashboard.
 *
 * Invalid values fail together: one ConfigError lists every bad variable, its value and what
 * was expected (the CLI prints it and exits 2).
 */
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ALERT_ENV, type AlertsConfig, alertsConfig } from '../alerts/alert-env.js';
import {
  ALERT_DESTINATION_ENV,
  ALERT_DESTINATION_SECRET_VARS,
  type AlertDestinationsConfig,
  alertDestinationsConfig,
  redactAlertDestinations,
} from './alert-destinations-env.js';
import { type GatewayEntry, isGatewayTokenVariable, parseGateways } from './gateways.js';
import { withLegacyNames } from './legacy-env.js';
import { OTLP_ENV, OTLP_SECRET_VARS, type OtlpConfig, otlpConfig, redactOtlp } from './otlp-env.js';
import { displayPgUrl, hostIdEnv, isPgUrl, type StoreSetting, storeEnv } from './store-env.js';
import { urlOf } from './url.js';

const intIn = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, `a whole number from ${min} to ${max}`)
        .max(max, `a whole number from ${min} to ${max}`),
    );

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(v), 'true or false')
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const httpUrl = urlOf(['http:', 'https:'], 'an http(s) URL such as https://chat.example.com').transform((v) =>
  v.replace(/\/+$/, ''),
);

const wsUrl = urlOf(['ws:', 'wss:'], 'a ws(s) URL such as ws://127.0.0.1:18789');

const level = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
  error: 'one of fatal, error, warn, info, debug, trace, silent',
});

const str = z.string().trim().min(1, 'a non-empty value');
const mmId = z
  .string()
  .trim()
  .regex(/^[a-z0-9]{26}$/, 'a 26-character Mattermost channel id (lowercase letters and digits)');

/** The variables, their parsers and defaults. Keys are env var names. */
const envSchema = {
  // Mattermost (original Live Status names)
  MM_URL: httpUrl.optional(),
  MM_TOKEN: str.optional(),
  DEFAULT_CHANNEL: mmId.optional(),
  THROTTLE_MS: intIn(0, 600_000).default(500),
  MAX_ACTIVE_SESSIONS: intIn(1, 10_000).default(20),
  MAX_MESSAGE_CHARS: intIn(100, 1_000_000).default(15_000),
  CIRCUIT_BREAKER_THRESHOLD: intIn(1, 1000).default(5),
  CIRCUIT_BREAKER_COOLDOWN_S: intIn(1, 86_400).default(30),
  PLUGIN_URL: httpUrl.optional(),
  PLUGIN_SECRET: str.optional(),
  PLUGIN_ENABLED: bool.default(true),
  /** plugin mode: a live box with no update for this long is drawn as stale by the plugin */
  PLUGIN_STALE_AFTER_S: intIn(60, 7 * 86_400).default(600),
  // model
  IDLE_TIMEOUT_S: intIn(1, 86_400).default(60),
  MAX_SESSION_DURATION_S: intIn(1, 30 * 86_400).default(1800),
  MAX_STATUS_LINES: intIn(1, 1000).default(15),
  STUCK_AFTER_S: intIn(1, 86_400).default(300),
  RETAIN_FINISHED_S: intIn(60, 365 * 86_400).default(86_400),
  TOOL_LABELS_FILE: str.optional(),
  /** prices (USD per 1M tokens) over the bundled table, for tokens whose source gave no cost: src/usage/prices-file.ts */
  PRICES_FILE: str.optional(),
  // sources
  OPENCLAW_STATE_DIR: str.optional(),
  TRANSCRIPT_DIR: str.optional(),
  SESSIONS_JSON: str.optional(),
  POLL_INTERVAL_MS: intIn(10, 60_000).default(1000),
  SOURCES: z
    .string()
    .trim()
    .regex(/^(auto|all|[a-z]+(,[a-z]+)*)$/, 'auto, all, or a comma list of gateway,sqlite,files')
    .refine(
      (v) =>
        v === 'auto' || v === 'all' || v.split(',').every((s) => ['gateway', 'sqlite', 'files'].includes(s)),
      'auto, all, or a comma list of gateway,sqlite,files',
    )
    .default('auto'),
  OPENCLAW_GATEWAY_URL: wsUrl.default('ws://127.0.0.1:18789'),
  OPENCLAW_GATEWAY_TOKEN: str.optional(),
  /** more gateways, each under a name: name=ws(s)://host:port,… or a JSON/YAML file (gateways.ts) */
  OPENCLAW_GATEWAYS: str.optional(),
  // daemon
  // 0 turns the HTTP server off (as in the original Live Status); `any` takes a free port
  HEALTH_PORT: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^(\d{1,5}|any)$/, 'a port from 0 to 65535 (0 = no HTTP server) or any (a free port)')
    .transform((v) => (v === 'any' ? -1 : Number(v)))
    .refine((n) => n <= 65_535, 'a port from 0 to 65535 (0 = no HTTP server) or any (a free port)')
    .default(9090),
  HTTP_HOST: str.default('127.0.0.1'),
  DASHBOARD_TOKEN: str.optional(),
  OTLP_TOKEN: str.optional(),
  OTLP_MAX_BODY_BYTES: intIn(1024, 512 * 1024 * 1024).default(8 * 1024 * 1024),
  SSE_MAX_CLIENTS: intIn(1, 100_000).default(200),
  SSE_MAX_AGE_S: intIn(10, 86_400).default(3600),
  LOG_LEVEL: level.default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty'], { error: 'auto, json or pretty' }).default('auto'),
  PID_FILE: str.optional(),
  CLAWPULSE_HOME: str.optional(),
  CLAWPULSE_DB: str.optional(),
  // a SQLite path (the default) or postgres://… (src/config/store-env.ts)
  CLAWPULSE_STORE: storeEnv.optional(),
  CLAWPULSE_HOST: hostIdEnv.optional(),
  // dispatch
  DISPATCH_HOST: str.optional(),
  DISPATCH_LABELS_PATH: str.optional(),
  DISPATCH_MIN_RUNTIME_S: intIn(0, 86_400).default(60),
  DISPATCH_VERIFY_TIMEOUT_S: intIn(1, 86_400).default(600),
  DISPATCH_RETRY_BACKOFF_S: z
    .string()
    .trim()
    .regex(/^\d{1,5}(,\d{1,5}){0,2}$/, 'up to three whole numbers of seconds, e.g. 30,120,300')
    .transform((v) => v.split(',').map((x) => Number(x) * 1000))
    .default([30_000, 120_000, 300_000]),
  LOKI_PUSH_URL: httpUrl.optional(),
  LOKI_TENANT_ID: str.optional(),
  LOKI_USERNAME: str.optional(),
  LOKI_PASSWORD: str.optional(),
  DISPATCH_WEBHOOK_URL: httpUrl.optional(),
  DISPATCH_WEBHOOK_SECRET: str.optional(),
  // agent-monitor platform uploader (clawpulse monitor; openclaw-status-monitor's variables)
  MONITOR_PLATFORM: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['auto', 'on', 'off'], { error: 'auto, on or off' }))
    .default('auto'),
  MONITOR_PLATFORM_TOKEN: str.optional(),
  OPENCLAW_MONITOR_URL: httpUrl.optional(),
  MONITOR_ONLY_LIVE: bool.default(false),
  // OTLP export of sessions (traces, metrics, logs): the OpenTelemetry names (src/config/otlp-env.ts)
  ...OTLP_ENV,
  // where alerts go: Mattermost ALERT_CHANNEL, webhook, Slack, Discord, Telegram (alert-destinations-env.ts)
  ...ALERT_DESTINATION_ENV,
  // alert rules and budgets (src/alerts/alert-env.ts)
  ...ALERT_ENV,
} as const;

type EnvSchema = typeof envSchema;
type Parsed = { [K in keyof EnvSchema]: z.output<EnvSchema[K]> };

export interface Config {
  mattermost: {
    url?: string;
    token?: string;
    defaultChannel?: string;
    throttleMs: number;
    maxActiveSessions: number;
    maxMessageChars: number;
    breakerThreshold: number;
    breakerCooldownMs: number;
    pluginUrl?: string;
    pluginSecret?: string;
    pluginEnabled: boolean;
    /** carried in each box's props (`stale_after_ms`) for the webapp plugin */
    pluginStaleAfterMs?: number;
  };
  /** the model's limits (a TrackerLimits) plus the tool labels file */
  model: {
    idleTimeoutMs: number;
    maxSessionDurationMs: number;
    maxStatusLines: number;
    stuckAfterMs: number;
    retainFinishedMs: number;
    toolLabelsFile?: string;
  };
  sources: {
    stateDir: string;
    /** extra transcript folder to follow (TRANSCRIPT_DIR), besides agents/* under the state dir */
    transcriptDir?: string;
    /** extra sessions.json to follow (SESSIONS_JSON) */
    sessionsJson?: string;
    pollIntervalMs: number;
    mode: 'auto' | 'all' | Array<'gateway' | 'sqlite' | 'files'>;
    gatewayUrl: string;
    /** OPENCLAW_GATEWAY_URL was set (not the default): a gateway is expected there */
    gatewayUrlSet: boolean;
    gatewayToken?: string;
    /** OPENCLAW_GATEWAYS: the named gateways, each its own source (sessions scoped by the name) */
    gateways: GatewayEntry[];
  };
  http: {
    /** the port to bind; 0 = any free port (HEALTH_PORT=any, --port 0) */
    port: number;
    /** HEALTH_PORT=0: no HTTP server (no dashboard, API, /health or OTLP receiver) */
    disabled?: boolean;
    host: string;
    dashboardToken?: string;
    otlpToken?: string;
    otlpMaxBodyBytes: number;
    sseMaxClients: number;
    sseMaxAgeMs: number;
  };
  dispatch: {
    /** the host name in lifecycle events (default: this machine's) */
    host: string;
    /** an openclaw-scheduler labels.json to import once */
    labelsPath?: string;
    /** `done` refuses a run younger than this unless --force-done --reason */
    minRuntimeMs: number;
    verifyTimeoutMs: number;
    /** the waits before 529 retries 1, 2, 3 */
    retryBackoffMs: number[];
    lokiUrl?: string;
    lokiTenant?: string;
    lokiUsername?: string;
    lokiPassword?: string;
    webhookUrl?: string;
    webhookSecret?: string;
  };
  /** uploads to the agent-monitor platform (src/monitor); the rest lives in its credentials file */
  monitor: {
    /** on: the daemon uploads; auto: when a token is configured; off: never in the daemon */
    platform: 'auto' | 'on' | 'off';
    /** MONITOR_PLATFORM_TOKEN: overrides the credentials file's agentToken */
    token?: string;
    /** OPENCLAW_MONITOR_URL: overrides the credentials file's monitorUrl */
    url?: string;
    /** only agents whose gateway answers or that had a session event within the interval */
    onlyLive: boolean;
  };
  /** OTLP export (src/sinks/otlp): a signal without an endpoint is off */
  otlp: OtlpConfig;
  /** where alerts go (src/alerts/destinations): a destination without its variables is off */
  alertDestinations: AlertDestinationsConfig;
  /** alert rules' thresholds and the budgets' variables (src/alerts/alert-env.ts) */
  alerts: AlertsConfig;
  logLevel: z.output<typeof level>;
  /** foreground logs: human lines on a terminal (auto), or always json / pretty */
  logFormat: 'auto' | 'json' | 'pretty';
  /** clawpulse's own folder: store, pid file (default ~/.clawpulse) */
  home: string;
  /** the SQLite store file (when `store.engine` is sqlite, the same path) */
  dbPath: string;
  /** where history is kept: the SQLite file, or PostgreSQL (CLAWPULSE_STORE=postgres://…) */
  store: StoreSetting;
  /** this clawpulse's id in a shared store (CLAWPULSE_HOST, default the hostname) */
  host: string;
  pidFile: string;
  /** PRICES_FILE: JSON or YAML prices over the bundled table (src/usage/prices-file.ts) */
  pricesFile?: string;
}

export class ConfigError extends Error {
  constructor(public readonly problems: Array<{ name: string; value: string; expected: string }>) {
    super(
      `invalid configuration:\n${problems
        .map((p) => `  ${p.name}=${JSON.stringify(redactValue(p.name, p.value))}: expected ${p.expected}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

const SECRET_VARS = new Set([
  'MM_TOKEN',
  'PLUGIN_SECRET',
  'DASHBOARD_TOKEN',
  'OPENCLAW_GATEWAY_TOKEN',
  'OTLP_TOKEN',
  'LOKI_PASSWORD',
  'DISPATCH_WEBHOOK_SECRET',
  'MONITOR_PLATFORM_TOKEN',
  ...OTLP_SECRET_VARS,
  ...ALERT_DESTINATION_SECRET_VARS,
]);
function redactValue(name: string, value: string): string {
  if ((name === 'CLAWPULSE_STORE' || name === 'CLAWPULSE_DB') && isPgUrl(value)) return displayPgUrl(value);
  return SECRET_VARS.has(name) || isGatewayTokenVariable(name) ? '[redacted]' : value;
}

/** Parses the environment (process.env by default). Throws ConfigError listing every bad variable. */
export function loadConfig(processEnv: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  // the original Live Status names (MM_BOT_TOKEN, MM_BASE_URL, MM_CHANNEL_ID) count when ours are unset
  const env = withLegacyNames(processEnv);
  const problems: ConfigError['problems'] = [];
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(envSchema) as Array<[string, z.ZodType]>) {
    const raw = env[name];
    const value = raw === undefined || raw === '' ? undefined : raw;
    const r = schema.safeParse(value);
    if (r.success) out[name] = r.data;
    else problems.push({ name, value: raw ?? '', expected: r.error.issues[0]?.message ?? 'a valid value' });
  }
  if (problems.length) throw new ConfigError(problems);
  const p = out as Parsed;
  if (p.MM_TOKEN && !p.MM_URL)
    problems.push({ name: 'MM_URL', value: '', expected: 'set when MM_TOKEN is set' });
  if (isPgUrl(p.CLAWPULSE_DB))
    problems.push({
      name: 'CLAWPULSE_DB',
      value: p.CLAWPULSE_DB,
      expected: 'a SQLite file path (a postgres:// URL goes in CLAWPULSE_STORE)',
    });
  const alertDestinations = alertDestinationsConfig(p as Record<string, unknown>);
  problems.push(...alertDestinations.problems);
  const gateways = parseGateways(p.OPENCLAW_GATEWAYS, env, p.OPENCLAW_GATEWAY_URL);
  if (!gateways.ok) problems.push(...gateways.problems);
  if (problems.length || !gateways.ok) throw new ConfigError(problems);

  const home = resolve(expandHome(p.CLAWPULSE_HOME ?? join(homedir(), '.clawpulse')));
  const dbPath = resolve(
    expandHome(
      (!isPgUrl(p.CLAWPULSE_STORE) && p.CLAWPULSE_STORE) || p.CLAWPULSE_DB || join(home, 'clawpulse.sqlite'),
    ),
  );
  const mode =
    p.SOURCES === 'auto' || p.SOURCES === 'all'
      ? p.SOURCES
      : (p.SOURCES.split(',') as Array<'gateway' | 'sqlite' | 'files'>);
  const config: Config = {
    mattermost: {
      url: p.MM_URL,
      token: p.MM_TOKEN,
      defaultChannel: p.DEFAULT_CHANNEL,
      throttleMs: p.THROTTLE_MS,
      maxActiveSessions: p.MAX_ACTIVE_SESSIONS,
      maxMessageChars: p.MAX_MESSAGE_CHARS,
      breakerThreshold: p.CIRCUIT_BREAKER_THRESHOLD,
      breakerCooldownMs: p.CIRCUIT_BREAKER_COOLDOWN_S * 1000,
      pluginUrl: p.PLUGIN_URL,
      pluginSecret: p.PLUGIN_SECRET,
      pluginEnabled: p.PLUGIN_ENABLED,
      pluginStaleAfterMs: p.PLUGIN_STALE_AFTER_S * 1000,
    },
    model: {
      idleTimeoutMs: p.IDLE_TIMEOUT_S * 1000,
      maxSessionDurationMs: p.MAX_SESSION_DURATION_S * 1000,
      maxStatusLines: p.MAX_STATUS_LINES,
      stuckAfterMs: p.STUCK_AFTER_S * 1000,
      retainFinishedMs: p.RETAIN_FINISHED_S * 1000,
      toolLabelsFile: p.TOOL_LABELS_FILE && resolve(expandHome(p.TOOL_LABELS_FILE)),
    },
    sources: {
      stateDir: resolve(expandHome(p.OPENCLAW_STATE_DIR ?? join(homedir(), '.openclaw'))),
      transcriptDir: p.TRANSCRIPT_DIR && resolve(expandHome(p.TRANSCRIPT_DIR)),
      sessionsJson: p.SESSIONS_JSON && resolve(expandHome(p.SESSIONS_JSON)),
      pollIntervalMs: p.POLL_INTERVAL_MS,
      mode,
      gatewayUrl: p.OPENCLAW_GATEWAY_URL,
      gatewayUrlSet: Boolean(env.OPENCLAW_GATEWAY_URL?.trim()),
      gatewayToken: p.OPENCLAW_GATEWAY_TOKEN,
      gateways: gateways.gateways,
    },
    http: {
      port: Math.max(0, p.HEALTH_PORT),
      ...(p.HEALTH_PORT === 0 ? { disabled: true } : {}),
      host: p.HTTP_HOST,
      dashboardToken: p.DASHBOARD_TOKEN,
      otlpToken: p.OTLP_TOKEN,
      otlpMaxBodyBytes: p.OTLP_MAX_BODY_BYTES,
      sseMaxClients: p.SSE_MAX_CLIENTS,
      sseMaxAgeMs: p.SSE_MAX_AGE_S * 1000,
    },
    dispatch: {
      host: p.DISPATCH_HOST ?? hostname(),
      labelsPath: p.DISPATCH_LABELS_PATH && resolve(expandHome(p.DISPATCH_LABELS_PATH)),
      minRuntimeMs: p.DISPATCH_MIN_RUNTIME_S * 1000,
      verifyTimeoutMs: p.DISPATCH_VERIFY_TIMEOUT_S * 1000,
      retryBackoffMs: p.DISPATCH_RETRY_BACKOFF_S,
      lokiUrl: p.LOKI_PUSH_URL,
      lokiTenant: p.LOKI_TENANT_ID,
      lokiUsername: p.LOKI_USERNAME,
      lokiPassword: p.LOKI_PASSWORD,
      webhookUrl: p.DISPATCH_WEBHOOK_URL,
      webhookSecret: p.DISPATCH_WEBHOOK_SECRET,
    },
    monitor: {
      platform: p.MONITOR_PLATFORM,
      token: p.MONITOR_PLATFORM_TOKEN,
      url: p.OPENCLAW_MONITOR_URL,
      onlyLive: p.MONITOR_ONLY_LIVE,
    },
    otlp: otlpConfig(p as Record<string, unknown>),
    alertDestinations: alertDestinations.config,
    alerts: alertsConfig(p as Record<string, unknown>, (f) => resolve(expandHome(f))),
    logLevel: p.LOG_LEVEL,
    logFormat: p.LOG_FORMAT,
    home,
    dbPath,
    store: isPgUrl(p.CLAWPULSE_STORE)
      ? { engine: 'postgres', url: p.CLAWPULSE_STORE }
      : { engine: 'sqlite', path: dbPath },
    host: p.CLAWPULSE_HOST ?? hostname().slice(0, 64),
    pidFile: resolve(expandHome(p.PID_FILE ?? join(home, 'clawpulse.pid'))),
    ...(p.PRICES_FILE ? { pricesFile: resolve(expandHome(p.PRICES_FILE)) } : {}),
  };
  if (!isLoopback(config.http.host) && !config.http.dashboardToken) {
    throw new ConfigError([
      {
        name: 'HTTP_HOST',
        value: config.http.host,
        expected: 'a loopback address (127.0.0.1, ::1, localhost) unless DASHBOARD_TOKEN is set',
      },
    ]);
  }
  return deepFreeze(config);
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

function deepFreeze<T>(o: T): Readonly<T> {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** The config as it may be logged or shown: secrets replaced by whether they are set. */
export function redactConfig(c: Config): unknown {
  return {
    ...c,
    mattermost: {
      ...c.mattermost,
      token: c.mattermost.token ? '[set]' : undefined,
      pluginSecret: c.mattermost.pluginSecret ? '[set]' : undefined,
    },
    sources: {
      ...c.sources,
      gatewayToken: c.sources.gatewayToken ? '[set]' : undefined,
      gateways: c.sources.gateways.map((g) => ({ ...g, token: g.token ? '[set]' : undefined })),
    },
    dispatch: {
      ...c.dispatch,
      lokiUrl: c.dispatch.lokiUrl ? redactUrl(c.dispatch.lokiUrl) : undefined,
      lokiPassword: c.dispatch.lokiPassword ? '[set]' : undefined,
      webhookUrl: c.dispatch.webhookUrl ? redactUrl(c.dispatch.webhookUrl) : undefined,
      webhookSecret: c.dispatch.webhookSecret ? '[set]' : undefined,
    },
    monitor: { ...c.monitor, token: c.monitor.token ? '[set]' : undefined },
    otlp: redactOtlp(c.otlp),
    alertDestinations: redactAlertDestinations(c.alertDestinations),
    store: c.store.engine === 'postgres' ? { ...c.store, url: displayPgUrl(c.store.url) } : c.store,
    http: {
      ...c.http,
      dashboardToken: c.http.dashboardToken ? '[set]' : undefined,
      otlpToken: c.http.otlpToken ? '[set]' : undefined,
    },
  };
}

/** a URL without its userinfo or query (either may hold a credential) */
function redactUrl(u: string): string {
  try {
    const url = new URL(u);
    if (url.username || url.password) url.username = url.password = '[set]';
    if (url.search) url.search = '?[redacted]';
    return url.toString();
  } catch {
    return '[set]';
  }
}

/** The variable names and defaults, for the README table and `clawpulse config`. */
export const CONFIG_VARIABLES = Object.keys(envSchema);
