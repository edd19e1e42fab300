/** Every error response is JSON `{ error: { code, message } }` (plus optional hints). */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export function jsonError(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  extra?: Record<string, unknown>,
): Response {
  return c.json({ error: { code, message, ...extra } }, status);
}
