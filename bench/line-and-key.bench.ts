/**
 * Three per-line costs of ingest, each against the way it was done before, in the same run:
 * - decoding a transcript line (bytes → checked text → JSON): `decodeLine`'s one fatal
 *   TextDecoder pass against `toString('utf8')` plus a scan for U+FFFD (the old check);
 * - decoding a read of a transcript (a turn: about 20 lines): `processLines`, which decodes an
 *   all-ASCII read once, against what the follower did before: find each newline, decodeLine
 *   the line's bytes;
 * - the dedupe hash of an event's key: `hashKey` (its byte loop in WebAssembly) against the same
 *   hash in JS (`hashCodeUnits`, which gives the same lanes).
 * Inputs are real: the lines of the recorded transcript (also with non-ASCII text), and the
 * dedupe keys the normalizer gives them. Rounds alternate A and B; medians of CPU time.
 */
import { readFileSync } from 'node:fs';
import { decodeLine, processLines } from '../src/ingest/files/line-processor.js';
import { createTranscriptNormalizer } from '../src/openclaw/normalize.js';
import { hashCodeUnits, hashKey } from '../src/store/dedupe-hash.js';
import { benchSessionId, cpuMs, decodeOnly, ignoreMalformed, TRANSCRIPT_FIXTURE } from './support.js';

const LINES = 100_000;
const ROUNDS = 7;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const strict = new TextDecoder('utf-8', { fatal: true });
/** the decode before: lenient toString, strict check only for a line showing U+FFFD */
function decodeBefore(buf: Buffer): unknown {
  const text = buf.toString('utf8');
  if (text.includes('\uFFFD')) strict.decode(buf);
  return JSON.parse(text);
}

/** alternating rounds of a and b over the same input; µs per item (medians) */
function compare(items: number, a: () => number, b: () => number): { a: number; b: number } {
  const ta: number[] = [];
  const tb: number[] = [];
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let t = cpuMs();
    sink += a();
    ta.push(cpuMs() - t);
    t = cpuMs();
    sink += b();
    tb.push(cpuMs() - t);
  }
  if (sink === 0) throw new Error('nothing measured');
  return { a: (median(ta) * 1000) / items, b: (median(tb) * 1000) / items };
}

export async function run(): Promise<Record<string, number>> {
  const template = readFileSync(TRANSCRIPT_FIXTURE, 'utf8').trim().split('\n');
  // the same lines with non-ASCII narration (V8 then holds the whole line as two-byte text)
  const accented = template.map((l) => l.replace(/"text":"/g, '"text":"Prüfe die Dateien 👀 — '));
  const bufs = (src: string[]) =>
    Array.from({ length: LINES }, (_, i) => Buffer.from(src[i % src.length] as string));
  const ascii = bufs(template);
  const mixed = bufs(accented);

  const decodeAll = (lines: Buffer[], f: (b: Buffer) => unknown) => () => {
    let n = 0;
    for (const b of lines) n += f(b) ? 1 : 0;
    return n;
  };
  const dAscii = compare(
    LINES,
    decodeAll(ascii, decodeBefore),
    decodeAll(ascii, (b) => decodeLine(b).value),
  );
  const dMixed = compare(
    LINES,
    decodeAll(mixed, decodeBefore),
    decodeAll(mixed, (b) => decodeLine(b).value),
  );

  // the same lines as reads of one turn each (the newlines included), decoded per read
  const readsOf = (src: string[]) =>
    Array.from({ length: LINES / src.length }, () => Buffer.from(`${src.join('\n')}\n`));
  const perRead = (reads: Buffer[]) => () => {
    let n = 0;
    for (const r of reads) n += processLines(r, decodeOnly, [], ignoreMalformed).lines;
    return n;
  };
  const lineByLine = (reads: Buffer[]) => () => {
    let n = 0;
    for (const r of reads) {
      for (let start = 0, nl = r.indexOf(0x0a); nl >= 0; start = nl + 1, nl = r.indexOf(0x0a, start))
        n += decodeLine(r.subarray(start, nl)).value ? 1 : 0;
    }
    return n;
  };
  const asciiReads = readsOf(template);
  const mixedReads = readsOf(accented);
  const rAscii = compare(LINES, lineByLine(asciiReads), perRead(asciiReads));
  const rMixed = compare(LINES, lineByLine(mixedReads), perRead(mixedReads));

  // the keys of the events of those lines, for many sessions (a key starts with the session id)
  const keys: string[] = [];
  for (let s = 0; keys.length < LINES; s++) {
    const normalizer = createTranscriptNormalizer({
      sessionKey: `agent:main:bench:${s}`,
      agentId: 'main',
      sessionId: benchSessionId(s),
      source: 'files',
    });
    for (const l of template) for (const e of normalizer.push(JSON.parse(l)).events) keys.push(e.dedupeKey);
  }
  const out = new Uint32Array(3);
  const hashAll = (f: (k: string, o: Uint32Array) => void) => () => {
    let x = 0;
    for (const k of keys) {
      f(k, out);
      x ^= out[0] as number;
    }
    return x | 1;
  };
  const h = compare(keys.length, hashAll(hashCodeUnits), hashAll(hashKey));

  return {
    'lines (each regime)': LINES,
    'decode µs/line before (toString + U+FFFD scan)': dAscii.a,
    'decode µs/line now (fatal TextDecoder)': dAscii.b,
    'decode now / before': dAscii.b / dAscii.a,
    'non-ASCII lines: decode µs/line before': dMixed.a,
    'non-ASCII lines: decode µs/line now': dMixed.b,
    'non-ASCII lines: decode now / before': dMixed.b / dMixed.a,
    'reads of a turn: decode µs/line, before (line by line)': rAscii.a,
    'reads of a turn: decode µs/line, processLines per read': rAscii.b,
    'reads of a turn: processLines / before': rAscii.b / rAscii.a,
    'non-ASCII reads: processLines / before': rMixed.b / rMixed.a,
    'dedupe keys hashed': keys.length,
    'key length (mean chars)': keys.reduce((n, k) => n + k.length, 0) / keys.length,
    'hash ns/key JS loop (hashCodeUnits)': h.a * 1000,
    'hash ns/key hashKey (WebAssembly loop)': h.b * 1000,
    'hash WebAssembly / JS': h.b / h.a,
  };
}
