/**
 * The contract every DispatchLedger implementation must pass (SQLite: sqlite-ledger.test.ts,
 * PostgreSQL: pg/pg-ledger.test.ts). Each test file calls `describeDispatchLedgerContract` with
 * a harness that opens a ledger by id (the same id is the same data, each call its own
 * connection) and says how another process opens it, for the concurrent writers test.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { labelEntry } from '../../test/support/label-entry.js';
import { tempDir } from '../test-support/temp-dir.js';
import type { DispatchLedger, LabelEntry } from './dispatch-ledger.js';

const run = promisify(execFile);

export interface OpenedLedger {
  ledger: DispatchLedger;
  close(): void;
}

export interface LedgerHarness {
  /** a ledger on the data named `id` (created when new), over a connection of its own */
  open(id: string): OpenedLedger;
  /**
   * how another process opens the same data: `module` exports `fn`, called with `args`,
   * returning an OpenedLedger
   */
  inProcess(id: string): { module: string; fn: string; args: unknown[] };
}

export function entry(over: Partial<LabelEntry> = {}): LabelEntry {
  return labelEntry(Date.parse('2026-12-01T10:00:00.000Z'), {
    sessionKey: 'agent:main:subagent:1',
    runId: 'r1',
    ...over,
  });
}

export function describeDispatchLedgerContract(name: string, h: LedgerHarness): void {
  describe(`DispatchLedger contract: ${name}`, () => {
    it('stores, reads back, finds by session and lists most recent first', () => {
      const { ledger, close } = h.open('basics');
      ledger.update('a', () => entry({ sessionKey: 'k1', updatedAt: '2026-12-01T10:00:00.000Z' }));
      ledger.update('b', () =>
        entry({ sessionKey: 'k2', status: 'done', updatedAt: '2026-12-01T11:00:00.000Z' }),
      );
      expect(ledger.get('a')?.sessionKey).toBe('k1');
      expect(ledger.get('nope')).toBeUndefined();
      expect(ledger.bySession('k2').map((r) => r.label)).toEqual(['b']);
      expect(ledger.list().map((r) => r.label)).toEqual(['b', 'a']);
      expect(ledger.list({ status: 'running' }).map((r) => r.label)).toEqual(['a']);
      expect(ledger.list({ limit: 1 }).map((r) => r.label)).toEqual(['b']);
      // returning undefined leaves the entry as it is
      expect(ledger.update('a', () => undefined)?.sessionKey).toBe('k1');
      close();
    });

    it('keeps every field of an entry as written, and hands the updater a copy', () => {
      const { ledger, close } = h.open('fields');
      const full = entry({
        taskPrompt: 'fix the build ✓ "quoted"',
        retries: [{ attempt: 1, at: 'x', error: '529', via: 'fresh', sessionKey: 'k9' }],
        delivery: { state: 'pending', idempotencyKey: 'd1', attempts: 0, nextAt: 5 },
        checklist: { tests: true, nested: { n: [1, 2] } },
      });
      ledger.update('f', () => full);
      expect(ledger.get('f')).toEqual(full);
      ledger.update('f', (c) => {
        if (c) c.status = 'error'; // a change made to the copy without returning it is not stored
        return undefined;
      });
      expect(ledger.get('f')?.status).toBe('running');
      close();
    });

    it('reports changes after a cursor, each write once', () => {
      const { ledger, close } = h.open('changes');
      const first = ledger.changedSince(0);
      expect(first.rows).toEqual([]);
      ledger.update('x', () => entry());
      ledger.update('y', () => entry());
      const a = ledger.changedSince(first.cursor);
      expect(a.rows.map((r) => r.label)).toEqual(['x', 'y']);
      ledger.update('x', (c) => c && { ...c, status: 'done' });
      const b = ledger.changedSince(a.cursor);
      expect(b.rows.map((r) => [r.label, r.entry.status])).toEqual([['x', 'done']]);
      expect(ledger.changedSince(b.cursor).rows).toEqual([]);
      close();
    });

    it('sees what another connection wrote, and the changes it made', () => {
      const one = h.open('two-connections');
      const two = h.open('two-connections');
      const cursor = one.ledger.changedSince(0).cursor;
      two.ledger.update('from-two', () => entry({ sessionKey: 'k2' }));
      expect(one.ledger.get('from-two')?.sessionKey).toBe('k2');
      expect(one.ledger.changedSince(cursor).rows.map((r) => r.label)).toEqual(['from-two']);
      one.close();
      two.close();
    });

    it('gives a claim to exactly one caller, across connections, until released', () => {
      const one = h.open('claims');
      const two = h.open('claims');
      expect(one.ledger.claim('retry:a:r1', 'a', 1)).toBe(true);
      expect(two.ledger.claim('retry:a:r1', 'a', 2)).toBe(false);
      expect(one.ledger.claim('retry:a:r1', 'a', 3)).toBe(false);
      two.ledger.release('retry:a:r1');
      expect(one.ledger.claim('retry:a:r1', 'a', 4)).toBe(true);
      one.close();
      two.close();
    });

    it('loses and doubles nothing under concurrent writers in separate processes', async () => {
      const id = 'concurrent';
      h.open(id).close();
      const dir = tempDir('clawpulse-ledger-writers-');
      const script = join(dir, 'writer.mjs');
      // each process: n read-modify-writes of one shared counter, and n labels of its own,
      // plus n claims of keys every process tries (each must go to exactly one)
      writeFileSync(
        script,
        `const [spec, who, n] = process.argv.slice(2);
const { module, fn, args } = JSON.parse(spec);
const m = await import(module);
const { ledger, close } = m[fn](...args);
const base = { sessionKey: 'k', runId: null, agent: 'main', mode: 'fresh', model: null, thinking: null, spawnedAt: '', status: 'running', summary: null, error: null, updatedAt: '' };
let won = 0;
for (let i = 0; i < Number(n); i++) {
  ledger.update('counter', (c) => ({ ...(c ?? base), retryCount: (c?.retryCount ?? 0) + 1, updatedAt: new Date().toISOString() }));
  ledger.update(who + '-' + i, () => ({ ...base, sessionKey: 'k' + i, updatedAt: new Date().toISOString() }));
  if (ledger.claim('once:' + i, who, i)) won++;
}
close();
process.stdout.write(String(won));
`,
      );
      const n = 150;
      const spec = JSON.stringify(h.inProcess(id));
      const wins = await Promise.all(
        ['p1', 'p2', 'p3'].map((who) =>
          run(process.execPath, ['--import', 'tsx', script, spec, who, String(n)]).then((r) =>
            Number(r.stdout),
          ),
        ),
      );
      const { ledger, close } = h.open(id);
      expect(ledger.get('counter')?.retryCount).toBe(3 * n);
      expect(ledger.list().length).toBe(3 * n + 1);
      // every claim went to exactly one process
      expect(wins.reduce((a, b) => a + b, 0)).toBe(n);
      // every write is seen once, in order, by a reader following changes from the start
      const seen = ledger.changedSince(0).rows.map((r) => r.label);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.length).toBe(3 * n + 1);
      close();
    }, 120_000);
  });
}
