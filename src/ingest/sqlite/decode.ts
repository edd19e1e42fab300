/**
 * Decodes one `transcript_events` row to the JSON object it stores. OpenClaw keeps small rows
 * as TEXT in `event_json` and large ones zstd-compressed in `event_zstd` (exactly one is set,
 * a CHECK constraint says so); the decoded bytes are the same JSON as one JSONL line.
 * Node 20 has no zstd, so the pure-JS `fzstd` decoder does it.
 */
import { decompress } from 'fzstd';

export interface TranscriptRow {
  session_id: string;
  seq: number;
  event_json: string | null;
  event_zstd: Uint8Array | null;
  event_utf8_bytes: number | null;
  created_at: number;
}

export type DecodeResult = { ok: true; value: unknown } | { ok: false; error: string };

/** the same cap OpenClaw puts on one row (4 MiB): a bigger claimed size is corrupt, not big */
const MAX_EVENT_BYTES = 4 * 1024 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeTranscriptRow(row: TranscriptRow): DecodeResult {
  let text: string;
  if (typeof row.event_json === 'string') {
    text = row.event_json;
  } else if (row.event_zstd instanceof Uint8Array) {
    if (row.event_zstd.byteLength > MAX_EVENT_BYTES) return { ok: false, error: 'compressed row too large' };
    let bytes: Uint8Array;
    try {
      bytes = decompress(row.event_zstd);
    } catch (err) {
      return { ok: false, error: `zstd: ${(err as Error).message}` };
    }
    if (typeof row.event_utf8_bytes === 'number' && bytes.byteLength !== row.event_utf8_bytes) {
      return { ok: false, error: `zstd: ${bytes.byteLength} bytes, row says ${row.event_utf8_bytes}` };
    }
    try {
      text = utf8.decode(bytes);
    } catch {
      return { ok: false, error: 'zstd: payload is not UTF-8' };
    }
  } else {
    return { ok: false, error: 'row has neither event_json nor event_zstd' };
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { ok: false, error: 'event is not a JSON object' };
    }
    return { ok: true, value };
  } catch (err) {
    return { ok: false, error: `json: ${(err as Error).message}` };
  }
}
