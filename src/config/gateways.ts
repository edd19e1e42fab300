/**
 * OPENCLAW_GATEWAYS: more OpenClaw gateways to follow from one clawpulse, each under a name.
 *
 * Two forms:
 *   - a list:  `OPENCLAW_GATEWAYS=build=wss://build.example.com:18789,laptop=ws://127.0.0.1:28789`
 *     with each token in `OPENCLAW_GATEWAY_TOKEN_<NAME>` (the name upper-cased, `.` and `-` as `_`:
 *     `build-2` → OPENCLAW_GATEWAY_TOKEN_BUILD_2). Tokens never sit in the list, which is logged
 *     and shown by `ps`.
 *   - a path to a JSON or YAML file (`/etc/clawpulse/gateways.yaml`, `./gateways.json`, `~/…`):
 *     `gateways: [{ name, url, token?, tokenFile? }]` (or the list itself); `tokenFile` is read
 *     relative to the file; without either the variable above is used.
 *
 * Rules: names are unique (also once upper-cased, since they name a variable), of
 * [A-Za-z0-9_.-], never `|` (the scope separator of session keys); URLs are ws:// or wss://
 * without userinfo. A remote (non-loopback) gateway needs a token (an error otherwise: the
 * gateway would refuse it, and an open one should not be followed blind); a remote plain ws://
 * URL is allowed with a warning (its token and every message travel unencrypted, but on a
 * network that already encrypts, a VPN such as WireGuard or Tailscale, it is a deliberate choice
 * clawpulse cannot see). The local gateway (OPENCLAW_GATEWAY_URL) is not listed: it is followed
 * already, with plain session keys.
 */
import fs from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isLoopback } from './config.js';

export interface GatewayEntry {
  /** the name sessions are scoped by (`<name>|<key>`) and shown with */
  name: string;
  url: string;
  token?: string;
  /** where the token came from, for messages (never the token itself) */
  tokenFrom?: string;
  /** not a loopback host */
  remote: boolean;
  /** said at start and by `clawpulse doctor`: a remote plain ws:// URL */
  warning?: string;
}

export interface GatewayProblem {
  name: string;
  value: string;
  expected: string;
}

export type GatewaysResult =
  | { ok: true; gateways: GatewayEntry[] }
  | { ok: false; problems: GatewayProblem[] };

const VAR = 'OPENCLAW_GATEWAYS';
const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const NAME_RULE = 'names of 1-64 letters, digits, _ . or - (no |)';

/** the variable holding a listed gateway's token */
export const tokenVariable = (name: string): string =>
  `OPENCLAW_GATEWAY_TOKEN_${name.toUpperCase().replace(/[.-]/g, '_')}`;

/** is this one of the per-gateway token variables (redacted wherever values are shown) */
export const isGatewayTokenVariable = (name: string): boolean => name.startsWith('OPENCLAW_GATEWAY_TOKEN_');

const entrySchema = z
  .object({
    name: z.string().trim().regex(NAME_RE, NAME_RULE),
    url: z.string().trim(),
    token: z.string().trim().min(1).optional(),
    tokenFile: z.string().trim().min(1).optional(),
  })
  .strict()
  .refine((e) => !(e.token && e.tokenFile), 'token or tokenFile, not both');
const listSchema = z.array(entrySchema).min(1, 'at least one gateway');

type RawEntry = { name: string; url: string; token?: string; tokenFrom?: string };

/**
 * Parses OPENCLAW_GATEWAYS (undefined/empty: no listed gateways). `localUrl` is the single
 * OPENCLAW_GATEWAY_URL, which may not be listed again.
 */
export function parseGateways(
  value: string | undefined,
  env: NodeJS.ProcessEnv,
  localUrl: string,
): GatewaysResult {
  const v = value?.trim();
  if (!v) return { ok: true, gateways: [] };
  const problems: GatewayProblem[] = [];
  const bad = (expected: string, shown = v) => problems.push({ name: VAR, value: shown, expected });
  const raw = looksLikePath(v) ? readFile(v, bad) : parseList(v, bad);
  if (!raw) return { ok: false, problems };

  const gateways: GatewayEntry[] = [];
  const seen = new Set<string>();
  const local = normalUrl(localUrl);
  for (const r of raw) {
    const upper = tokenVariable(r.name);
    if (seen.has(upper)) {
      bad(`unique gateway names (${r.name} is there twice, or names one token variable with another)`);
      continue;
    }
    seen.add(upper);
    const url = checkUrl(r.url);
    if (typeof url !== 'string') {
      bad(`${r.name}: ${url.expected}`, r.url);
      continue;
    }
    if (url === local) {
      bad(
        `${r.name}: not the local gateway ${url} (OPENCLAW_GATEWAY_URL is followed already, with plain session keys; listed again its sessions would show twice)`,
        r.url,
      );
      continue;
    }
    const envToken = env[upper]?.trim();
    const token = r.token ?? (envToken || undefined);
    const tokenFrom = r.token ? (r.tokenFrom ?? 'the gateways file') : envToken ? upper : undefined;
    const host = new URL(url).hostname;
    const remote = !isLoopback(host);
    if (remote && !token) {
      bad(
        `${r.name}: a token for the remote gateway ${url} (set ${upper}, or token/tokenFile in a gateways file)`,
        r.url,
      );
      continue;
    }
    const e: GatewayEntry = { name: r.name, url, remote, ...(token ? { token, tokenFrom } : {}) };
    if (remote && url.startsWith('ws:'))
      e.warning = `gateway ${r.name}: ${url} is a remote plain ws:// URL: its token and every session message travel unencrypted; use wss:// (TLS) unless the network itself encrypts (a VPN)`;
    gateways.push(e);
  }
  return problems.length ? { ok: false, problems } : { ok: true, gateways };
}

/** a file path, not a list: no `=`, and it starts like a path or ends like a file */
function looksLikePath(v: string): boolean {
  return !v.includes('=') && (/^(\/|\.{1,2}\/|~)/.test(v) || /\.(json|ya?ml)$/i.test(v));
}

function parseList(v: string, bad: (expected: string, shown?: string) => void): RawEntry[] | undefined {
  const out: RawEntry[] = [];
  for (const part of v.split(',')) {
    const item = part.trim();
    if (!item) continue;
    const at = item.indexOf('=');
    const name = at > 0 ? item.slice(0, at).trim() : '';
    if (!NAME_RE.test(name)) {
      bad(`a comma list of name=ws(s)://host:port, ${NAME_RULE}; or a path to a JSON/YAML file`, item);
      return undefined;
    }
    out.push({ name, url: item.slice(at + 1).trim() });
  }
  if (!out.length) bad('at least one name=ws(s)://host:port');
  return out.length ? out : undefined;
}

function readFile(v: string, bad: (expected: string, shown?: string) => void): RawEntry[] | undefined {
  const path = resolve(v === '~' || v.startsWith('~/') ? join(homedir(), v.slice(1)) : v);
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    bad(`a readable gateways file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}: ${path})`);
    return undefined;
  }
  let doc: unknown;
  try {
    // YAML 1.2 reads JSON as well
    doc = parseYaml(text);
  } catch (err) {
    bad(`a JSON or YAML file (${path}: ${(err as Error).message.split('\n')[0]})`);
    return undefined;
  }
  // `gateways: [...]` or the list itself
  const inner = Array.isArray(doc) ? doc : (doc as { gateways?: unknown } | null)?.gateways;
  const r = listSchema.safeParse(inner);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? ` at gateways.${issue.path.join('.')}` : '';
    bad(`gateways: [{ name, url, token?, tokenFile? }] in ${path}${where}: ${issue?.message ?? 'invalid'}`);
    return undefined;
  }
  const out: RawEntry[] = [];
  for (const e of r.data) {
    if (!e.tokenFile) {
      out.push({ name: e.name, url: e.url, ...(e.token ? { token: e.token, tokenFrom: path } : {}) });
      continue;
    }
    const file = resolve(dirname(path), e.tokenFile);
    try {
      const token = fs.readFileSync(file, 'utf8').trim();
      if (!token) throw Object.assign(new Error('empty'), { code: 'empty' });
      out.push({ name: e.name, url: e.url, token, tokenFrom: file });
    } catch (err) {
      bad(
        `${e.name}: a readable, non-empty tokenFile (${(err as NodeJS.ErrnoException).code ?? 'error'}: ${file})`,
      );
      return undefined;
    }
  }
  return out;
}

/** the URL as compared and used (`new URL().href`), or what is wrong with it */
function checkUrl(u: string): string | { expected: string } {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    return { expected: 'a ws:// or wss:// URL such as wss://gateway.example.com:18789' };
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
    return { expected: 'a ws:// or wss:// URL such as wss://gateway.example.com:18789' };
  if (url.username || url.password)
    return {
      expected:
        'a URL without user:password@ (tokens go in OPENCLAW_GATEWAY_TOKEN_<NAME> or a gateways file)',
    };
  return url.href.replace(/\/$/, '');
}

function normalUrl(u: string): string {
  try {
    return new URL(u).href.replace(/\/$/, '');
  } catch {
    return u;
  }
}
