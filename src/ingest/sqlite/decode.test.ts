import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeTranscriptRow, type TranscriptRow } from './decode.js';
import { createFakeAgentDb } from './fake-agent-db.js';

/** a compressed row as OpenClaw 2026.9.6 itself wrote it (node:zlib zstd, level 1, checksum on) */
const real = JSON.parse(
  fs.readFileSync(new URL('./real-zstd-row.fixture.json', import.meta.url), 'utf8'),
) as {
  session_id: string;
  seq: number;
  created_at: number;
  event_utf8_bytes: number;
  navigation_json: string;
  event_zstd_base64: string;
};
const row = (over: Partial<TranscriptRow> = {}): TranscriptRow => ({
  session_id: real.session_id,
  seq: real.seq,
  created_at: real.created_at,
  event_json: null,
  event_zstd: new Uint8Array(Buffer.from(real.event_zstd_base64, 'base64')),
  event_utf8_bytes: real.event_utf8_bytes,
  ...over,
});

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});

describe('decodeTranscriptRow', () => {
  it('decodes a real OpenClaw zstd row to the JSONL line object it stores', () => {
    const d = decodeTranscriptRow(row());
    expect(d.ok).toBe(true);
    const v = (d as { value: { type: string; message: { role: string; toolCallId: string } } }).value;
    expect(v.type).toBe('message');
    expect(v.message).toMatchObject({ role: 'toolResult', toolCallId: 'call_conf_2' });
  });

  it('refuses truncated, mis-sized and non-object rows with a reason', () => {
    const bytes = Buffer.from(real.event_zstd_base64, 'base64');
    const cut = decodeTranscriptRow(row({ event_zstd: new Uint8Array(bytes.subarray(0, 100)) }));
    expect(cut.ok).toBe(false);
    const size = decodeTranscriptRow(row({ event_utf8_bytes: real.event_utf8_bytes + 1 }));
    expect(size).toMatchObject({ ok: false, error: expect.stringMatching(/row says/) });
    expect(decodeTranscriptRow(row({ event_zstd: null, event_json: '"text"' }))).toMatchObject({ ok: false });
    expect(decodeTranscriptRow(row({ event_zstd: null, event_json: null }))).toMatchObject({ ok: false });
    expect(decodeTranscriptRow(row({ event_zstd: null, event_json: '{"type":"x"}' }))).toEqual({
      ok: true,
      value: { type: 'x' },
    });
  });

  it('never throws on corrupted compressed rows', () => {
    const bytes = Buffer.from(real.event_zstd_base64, 'base64');
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let failures = 0;
    for (let i = 0; i < 200; i++) {
      const b = Buffer.from(bytes);
      for (let k = 0; k <= rand(4); k++) b[rand(b.length)] = rand(256);
      const d = decodeTranscriptRow(row({ event_zstd: new Uint8Array(b.subarray(0, 1 + rand(b.length))) }));
      if (!d.ok) failures++;
    }
    expect(failures).toBeGreaterThan(150); // almost every corruption is caught (zstd checksum, size, JSON)
  });

  it('the real row satisfies the real schema CHECK constraints of transcript_events', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-decode-'));
    dirs.push(dir);
    const db = createFakeAgentDb(dir, 'main');
    db.upsertSession({ sessionKey: 'agent:main:main', sessionId: real.session_id, updatedAt: 1 });
    const insert = () =>
      db.appendRaw(real.session_id, {
        zstd: row().event_zstd as Uint8Array,
        utf8Bytes: real.event_utf8_bytes,
        navigation: real.navigation_json,
      });
    expect(insert()).toBe(1);
    // and the CHECK really bites: a compressed row without navigation metadata is refused
    expect(() =>
      db.appendRaw(real.session_id, { zstd: new Uint8Array([1]), utf8Bytes: 1, navigation: '{}' }),
    ).toThrow(/CHECK/);
    db.close();
  });
});
