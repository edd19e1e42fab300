import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTranscriptListing, RACY_MS } from './transcript-listing.js';

const SID = (n: number) => `11111111-2222-4333-8444-${String(n).padStart(12, '0')}`;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function folder(n: number): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-listing-'));
  dirs.push(d);
  for (let i = 0; i < n; i++) fs.writeFileSync(path.join(d, `${SID(i)}.jsonl`), '');
  fs.writeFileSync(path.join(d, 'sessions.json'), '{}');
  fs.writeFileSync(path.join(d, `${SID(0)}.trajectory.jsonl`), '');
  return d;
}

/** the folder's mtime moved back, as if its last change was long ago */
function settle(d: string): void {
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(d, old, old);
}

describe('transcript listing', () => {
  it('lists the transcripts only (not sessions.json, not side files), as full paths', async () => {
    const d = folder(3);
    const got = await createTranscriptListing().list(d);
    expect([...got].sort()).toEqual([0, 1, 2].map((i) => path.join(d, `${SID(i)}.jsonl`)));
  });

  it('answers from the last read while the folder is unchanged', async () => {
    const d = folder(3);
    settle(d);
    const l = createTranscriptListing();
    const first = await l.list(d);
    // the same array: the folder was not read again
    expect(await l.list(d)).toBe(first);
  });

  it('reads again once a file is created or deleted in the folder', async () => {
    const d = folder(2);
    settle(d);
    const l = createTranscriptListing();
    const first = await l.list(d);
    fs.writeFileSync(path.join(d, `${SID(7)}.jsonl`), '');
    const second = await l.list(d);
    expect(second).toHaveLength(3);
    settle(d);
    const third = await l.list(d);
    fs.rmSync(path.join(d, `${SID(0)}.jsonl`));
    const fourth = await l.list(d);
    expect(first).toHaveLength(2);
    expect(third).toHaveLength(3);
    expect(fourth).toHaveLength(2);
    expect(fourth).not.toContain(path.join(d, `${SID(0)}.jsonl`));
  });

  it('does not trust a listing read within RACY_MS of the last change (coarse timestamps)', async () => {
    const d = folder(1);
    const mtime = fs.statSync(d).mtimeMs;
    let now = mtime + RACY_MS - 1;
    const l = createTranscriptListing(() => now);
    const first = await l.list(d);
    // a file system with 1 s timestamps: a file created now gives the folder the same mtime
    fs.writeFileSync(path.join(d, `${SID(5)}.jsonl`), '');
    const t = new Date(mtime);
    fs.utimesSync(d, t, t);
    now = mtime + 10 * RACY_MS;
    const second = await l.list(d);
    expect(first).toHaveLength(1);
    expect(second).toHaveLength(2);
    // read long after the change: trusted from now on
    expect(await l.list(d)).toBe(second);
  });

  it('a missing folder is an empty list, and one created later is read', async () => {
    const d = path.join(folder(0), 'later');
    const l = createTranscriptListing();
    expect(await l.list(d)).toEqual([]);
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, `${SID(1)}.jsonl`), '');
    expect(await l.list(d)).toEqual([path.join(d, `${SID(1)}.jsonl`)]);
  });
});
