/**
 * Keeps a destination's secrets (a bot token, the secret path of a Slack or Discord webhook URL,
 * userinfo, an HMAC key) out of everything a person or a log sees: error messages, the server's
 * answer we quote, /health. Each destination builds one redactor from its own secrets and passes
 * every error through it before the delivery queue stores or logs it.
 */

export type Redact = (text: string) => string;

const CENSOR = '[redacted]';

/**
 * `replace` pairs go first (e.g. the URL as undici prints it → the safe form shown in /health),
 * then every secret, whole and URL-encoded, longest first (a secret containing another one
 * is replaced whole).
 */
export function createRedactor(
  secrets: ReadonlyArray<string | undefined>,
  replace: ReadonlyArray<readonly [string, string]> = [],
): Redact {
  const needles = new Set<string>();
  for (const s of secrets) {
    if (!s || s.length < 4) continue;
    needles.add(s);
    needles.add(encodeURIComponent(s));
  }
  const list = [...needles].sort((a, b) => b.length - a.length);
  const pairs = replace.filter(([from]) => from.length > 0);
  return (text) => {
    let out = String(text);
    for (const [from, to] of pairs) out = out.split(from).join(to);
    for (const n of list) out = out.split(n).join(CENSOR);
    return out;
  };
}

/**
 * The secret parts of a webhook URL: the whole URL, its path and query, userinfo and every path
 * segment that looks like an id or a token (a digit in it, or 16+ characters). Slack's
 * /services/T…/B…/<secret>, Discord's /api/webhooks/<id>/<token> and a generic hook's
 * /hooks/<token> are all covered; /services, /api, /webhooks are not secrets and stay readable.
 */
export function urlSecrets(raw: string): string[] {
  const out = [raw];
  try {
    const u = new URL(raw);
    out.push(u.toString(), u.pathname + u.search, u.search.slice(1));
    if (u.username) out.push(decodeURIComponent(u.username), u.username);
    if (u.password) out.push(decodeURIComponent(u.password), u.password);
    for (const seg of u.pathname.split('/'))
      if (seg && (/\d/.test(seg) || seg.length >= 16)) out.push(seg, safeDecode(seg));
    for (const [, v] of u.searchParams) out.push(v);
    const bare = new URL(raw);
    bare.username = '';
    bare.password = '';
    out.push(bare.toString());
  } catch {
    // not a URL: the raw value alone is the secret
  }
  return out.filter((s) => s.length >= 4);
}

/** what of a secret-bearing URL may be shown: its scheme and host */
export function safeTarget(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}/[redacted]`;
  } catch {
    return '[invalid URL]';
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
