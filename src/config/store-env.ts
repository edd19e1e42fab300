/**
 * Where history is kept (CLAWPULSE_STORE) and under which host id (CLAWPULSE_HOST).
 *
 * - unset, or a path: the SQLite file (as before, CLAWPULSE_DB or <home>/clawpulse.sqlite);
 * - `postgres://…` / `postgresql://…`: the shared PostgreSQL store, each daemon writing under its
 *   host id (default the hostname). The id goes into scoped session keys (`<host>|<key>`), so it
 *   cannot hold `|`.
 *
 * The URL's password is never shown: `displayStore` is what logs, /health, status and doctor print.
 */
import { z } from 'zod';

export type StoreSetting = { engine: 'sqlite'; path: string } | { engine: 'postgres'; url: string };

const PG_PROTOCOLS = new Set(['postgres:', 'postgresql:']);

export const storeEnv = z
  .string()
  .trim()
  .min(1, 'a non-empty value')
  .refine((v) => {
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return true; // a path
    try {
      const u = new URL(v);
      return PG_PROTOCOLS.has(u.protocol) && u.hostname !== '' && u.pathname.length > 1;
    } catch {
      return false;
    }
  }, 'a path to a SQLite file, or a PostgreSQL URL such as postgres://user:password@db.example.com:5432/clawpulse');

export const hostIdEnv = z
  .string()
  .trim()
  .min(1, 'a non-empty host id')
  .max(64, 'a host id of at most 64 characters')
  .refine((v) => !v.includes('|'), 'a host id without "|"');

/** true for a postgres:// or postgresql:// URL */
export const isPgUrl = (v: string | undefined): v is string =>
  v !== undefined && /^postgres(ql)?:\/\//i.test(v.trim());

/**
 * A PostgreSQL URL as it may be shown: the password (in the userinfo or a `password=` query
 * parameter) replaced by `[set]`; the user, host, port and database kept (they say which store).
 */
export function displayPgUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '[set]';
    for (const k of [...u.searchParams.keys()])
      if (/pass|secret|key/i.test(k)) u.searchParams.set(k, '[set]');
    return u.toString().replaceAll('%5Bset%5D', '[set]');
  } catch {
    return 'postgres://[unparsable URL]';
  }
}

/** the store as logs, /health, status and doctor print it */
export function displayStore(s: StoreSetting): string {
  return s.engine === 'postgres' ? displayPgUrl(s.url) : s.path;
}
