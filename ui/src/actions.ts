/**
 * The dashboard's calls to the write routes (src/server/actions.ts). Same-origin with the
 * login cookie; the JSON content type is what the server requires of a write (a cross-site
 * form cannot send it), so it goes on abort too.
 */
import type { SessionActions } from '../../src/dispatch/session-actions.js';

export type SteerResult = Awaited<ReturnType<SessionActions['steer']>>;
export type AbortResult = Awaited<ReturnType<SessionActions['abort']>>;

export type ActionOutcome<T> = { ok: true; value: T } | { ok: false; error: string };

async function post<T>(key: string, action: 'steer' | 'abort', body: object): Promise<ActionOutcome<T>> {
  let res: Response;
  try {
    res = await fetch(`/api/sessions/${encodeURIComponent(key)}/${action}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch {
    return { ok: false, error: 'the daemon did not answer (network error)' };
  }
  const data = (await res.json().catch(() => undefined)) as
    | { ok?: boolean; error?: string | { message?: string } }
    | undefined;
  if (res.ok && data?.ok) return { ok: true, value: data as T };
  // the write routes answer { error: "text" }; the auth layer { error: { code, message } }
  const e = data?.error;
  const text = typeof e === 'string' ? e : e?.message;
  return { ok: false, error: text || `HTTP ${res.status}` };
}

export const steerSession = (key: string, message: string) => post<SteerResult>(key, 'steer', { message });
export const abortSession = (key: string) => post<AbortResult>(key, 'abort', {});
