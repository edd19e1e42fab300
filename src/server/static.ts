/**
 * Serves the built dashboard (ui/dist). Unknown paths get index.html (the SPA routes on the
 * client); hashed assets are cached for good, index.html never.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { Context } from 'hono';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

export function createStaticHandler(uiDir: string) {
  const root = resolve(uiDir);
  const fileAt = async (rel: string): Promise<string | undefined> => {
    const p = resolve(join(root, rel));
    if (p !== root && !p.startsWith(root + sep)) return undefined; // no escaping the folder
    try {
      return (await stat(p)).isFile() ? p : undefined;
    } catch {
      return undefined;
    }
  };
  return async (c: Context): Promise<Response> => {
    let rel: string;
    try {
      rel = decodeURIComponent(c.req.path);
    } catch {
      rel = '/';
    }
    const file = (rel !== '/' && (await fileAt(rel))) || (await fileAt('index.html'));
    if (!file) {
      return c.json(
        { error: { code: 'ui_not_built', message: 'the dashboard is not built; run npm run build' } },
        404,
      );
    }
    const isIndex = file.endsWith(`${sep}index.html`);
    const body = await readFile(file);
    return new Response(new Uint8Array(body), {
      headers: {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': isIndex
          ? 'no-cache'
          : rel.startsWith('/assets/')
            ? 'public, max-age=31536000, immutable'
            : 'public, max-age=300',
        'x-content-type-options': 'nosniff',
      },
    });
  };
}
