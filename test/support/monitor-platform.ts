/**
 * A fake openclaw-agent-monitor platform: a real HTTP server on 127.0.0.1 answering
 * `POST /api/upload` as the real one does (api/upload.ts of openclaw-agent-monitor): the
 * `x-agent-token` header must name a known token (401 when missing; an unknown one gets 401 here,
 * 403 on the real platform: `unknownTokenStatus`), the body must be a non-empty JSON array of
 * `{"id": "<agentId>"}` objects sent as application/json (400 otherwise), then
 * 200 `{success: true, count}`. Every request is recorded; `failNext` scripts outages.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PlatformRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** the answer's status; undefined while unanswered (hang) or reset */
  status?: number;
  at: number;
}

export interface PlatformUpload {
  token: string;
  ids: string[];
  at: number;
}

/** a status to answer with, `hang` (never answer) or `reset` (drop the connection) */
export type Scripted = number | 'hang' | 'reset';

export interface FakePlatform {
  url: string;
  requests: PlatformRequest[];
  /** accepted uploads, in order */
  uploads: PlatformUpload[];
  tokens: Set<string>;
  failNext(...r: Scripted[]): void;
  close(): Promise<void>;
}

export async function startFakePlatform(
  o: { tokens?: string[]; unknownTokenStatus?: 401 | 403; port?: number } = {},
): Promise<FakePlatform> {
  const tokens = new Set(o.tokens ?? ['good-token']);
  const requests: PlatformRequest[] = [];
  const uploads: PlatformUpload[] = [];
  const script: Scripted[] = [];
  const hanging: ServerResponse[] = [];
  const json = (res: ServerResponse, rec: PlatformRequest, status: number, body: unknown) => {
    rec.status = status;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: PlatformRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      requests.push(rec);
      const next = script.shift();
      if (next === 'hang') return void hanging.push(res);
      if (next === 'reset') return void req.socket.destroy();
      if (typeof next === 'number') return json(res, rec, next, { error: `scripted ${next}` });
      if (rec.path !== '/api/upload') return json(res, rec, 404, { error: 'Not found' });
      if (rec.method !== 'POST') return json(res, rec, 405, { error: 'Method not allowed. Use POST.' });
      const token = req.headers['x-agent-token'];
      if (typeof token !== 'string' || !token)
        return json(res, rec, 401, { error: 'Unauthorized: missing x-agent-token header' });
      if (!tokens.has(token))
        return json(res, rec, o.unknownTokenStatus ?? 401, {
          error: 'Invalid token: token not registered in any user settings',
        });
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json'))
        return json(res, rec, 400, { error: 'Invalid format: body must be application/json' });
      let body: unknown;
      try {
        body = JSON.parse(rec.body);
      } catch {
        return json(res, rec, 400, { error: 'Invalid JSON' });
      }
      if (!Array.isArray(body))
        return json(res, rec, 400, { error: 'Invalid format: body must be a JSON array of agents' });
      if (!body.length) return json(res, rec, 400, { error: 'Invalid data: array cannot be empty' });
      const ids: string[] = [];
      for (const [i, a] of body.entries()) {
        const ok =
          a && typeof a === 'object' && typeof a.id === 'string' && a.id && Object.keys(a).join() === 'id';
        if (!ok)
          return json(res, rec, 400, { error: `Invalid agent at index ${i}: expected {"id": string}` });
        ids.push(a.id);
      }
      uploads.push({ token, ids, at: rec.at });
      json(res, rec, 200, {
        success: true,
        count: ids.length,
        message: `Successfully uploaded ${ids.length} agents`,
      });
    });
  });
  await new Promise<void>((r) => server.listen(o.port ?? 0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    uploads,
    tokens,
    failNext: (...r) => script.push(...r),
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
