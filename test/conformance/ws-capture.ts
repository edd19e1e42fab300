/**
 * A raw observer of the real Gateway's WebSocket: records every frame, both directions, as
 * `{t, dir, frame}` JSONL in the run's temp dir. It is independent of clawpulse's gateway
 * source, so when a view disagrees the frames OpenClaw really sent are there to look at.
 * Handshake as found live (research/openclaw-live.md): wait for `connect.challenge`, send
 * `connect` as a loopback backend client with the token, then `sessions.subscribe`.
 */
import fs from 'node:fs';
import WebSocket from 'ws';

export interface WsCapture {
  frames(): Array<{ t: number; dir: 'in' | 'out'; frame: unknown }>;
  /** resolves once hello-ok and the subscribe answer came back */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function startWsCapture(opts: {
  url: string;
  token: string;
  file: string;
  readyTimeoutMs?: number;
}): WsCapture {
  const list: Array<{ t: number; dir: 'in' | 'out'; frame: unknown }> = [];
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 150_000);
  let ws: WebSocket;
  let closing = false;
  let isReady = false;
  const record = (dir: 'in' | 'out', frame: unknown) => {
    const entry = { t: Date.now(), dir, frame };
    list.push(entry);
    fs.appendFileSync(opts.file, `${JSON.stringify(entry)}\n`);
  };
  let resolveReady: () => void = () => {};
  let rejectReady: (e: Error) => void = () => {};
  const ready = new Promise<void>((res, rej) => {
    resolveReady = () => {
      isReady = true;
      res();
    };
    rejectReady = rej;
  });
  // A gateway whose port is open may still answer `UNAVAILABLE … retry shortly` while its
  // sidecars start: reconnect after the hinted delay until the deadline.
  const retryOrFail = (why: string, afterMs: number) => {
    if (closing || isReady) return;
    if (Date.now() + afterMs > deadline) {
      rejectReady(new Error(why));
      return;
    }
    ws.removeAllListeners();
    ws.on('error', () => {});
    ws.terminate();
    setTimeout(connect, afterMs);
  };
  function connect(): void {
    const sock = new WebSocket(opts.url);
    ws = sock;
    const send = (frame: unknown) => {
      record('out', frame);
      sock.send(JSON.stringify(frame));
    };
    sock.on('message', (data) => {
      let frame: {
        type?: string;
        event?: string;
        id?: string;
        ok?: boolean;
        error?: { retryable?: boolean; retryAfterMs?: number };
      } & Record<string, unknown>;
      try {
        frame = JSON.parse(data.toString()) as typeof frame;
      } catch {
        record('in', { unparsable: data.toString().slice(0, 500) });
        return;
      }
      record('in', frame);
      if (frame.type === 'event' && frame.event === 'connect.challenge') {
        send({
          type: 'req',
          id: 'c1',
          method: 'connect',
          params: {
            minProtocol: 1,
            maxProtocol: 99,
            client: { id: 'gateway-client', version: '0.0.1', platform: 'linux', mode: 'backend' },
            role: 'operator',
            scopes: ['operator.read', 'operator.write', 'operator.admin'],
            caps: [],
            commands: [],
            permissions: {},
            auth: { token: opts.token },
            locale: 'en-US',
            userAgent: 'clawpulse-conformance/0.0.1',
          },
        });
      } else if (frame.type === 'res' && frame.id === 'c1') {
        if (frame.ok) send({ type: 'req', id: 'c2', method: 'sessions.subscribe', params: { limit: 50 } });
        else if (frame.error?.retryable)
          retryOrFail(
            `connect refused: ${JSON.stringify(frame).slice(0, 300)}`,
            frame.error.retryAfterMs ?? 500,
          );
        else rejectReady(new Error(`connect refused: ${JSON.stringify(frame).slice(0, 300)}`));
      } else if (frame.type === 'res' && frame.id === 'c2') {
        if (frame.ok) resolveReady();
        else rejectReady(new Error(`subscribe refused: ${JSON.stringify(frame).slice(0, 300)}`));
      }
    });
    sock.on('error', (err) => retryOrFail(`websocket error: ${err.message}`, 500));
    sock.on('close', () => retryOrFail('websocket closed before ready', 500));
  }
  connect();
  return {
    frames: () => [...list],
    ready,
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        const sock = ws;
        if (sock.readyState === WebSocket.CLOSED) return resolve();
        sock.once('close', () => resolve());
        sock.close();
        setTimeout(() => {
          sock.terminate();
          resolve();
        }, 2000).unref();
      }),
  };
}
