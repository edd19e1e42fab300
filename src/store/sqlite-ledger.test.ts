import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { labelEntry } from '../../test/support/label-entry.js';
import type { PulseEvent } from '../model/events.js';
import { tempDir } from '../test-support/temp-dir.js';
import type { LabelEntry } from './dispatch-ledger.js';
import { openLedgerFile } from './sqlite-ledger.js';
import { createSqliteStore } from './sqlite-store.js';

const run = promisify(execFile);
const dir = tempDir('clawpulse-ledger-');

function entry(over: Partial<LabelEntry> = {}): LabelEntry {
  return labelEntry(Date.parse('2026-12-01T10:00:00.000Z'), {
    sessionKey: 'agent:main:subagent:1',
    runId: 'r1',
    ...over,
  });
}

describe('dispatch ledger (SQLite)', () => {
  it('stores, reads back, finds by session and lists most recent first', () => {
    const { ledger, close } = openLedgerFile(join(dir, 'a.sqlite'));
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

  it('reports changes after a cursor, each write once', () => {
    const { ledger, close } = openLedgerFile(join(dir, 'b.sqlite'));
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

  it('gives a claim to exactly one caller, across connections, until released', () => {
    const path = join(dir, 'c.sqlite');
    const one = openLedgerFile(path);
    const two = openLedgerFile(path);
    expect(one.ledger.claim('retry:a:r1', 'a', 1)).toBe(true);
    expect(two.ledger.claim('retry:a:r1', 'a', 2)).toBe(false);
    expect(one.ledger.claim('retry:a:r1', 'a', 3)).toBe(false);
    two.ledger.release('retry:a:r1');
    expect(one.ledger.claim('retry:a:r1', 'a', 4)).toBe(true);
    one.close();
    two.close();
  });

  it("shares the daemon store's file: a CLI write waits for the daemon's open group, nothing is lost", () => {
    const path = join(dir, 'd.sqlite');
    const store = createSqliteStore(path);
    const ev: PulseEvent = {
      type: 'session.seen',
      ts: 1,
      source: 'files',
      sessionKey: 'k',
      agentId: 'main',
      dedupeKey: 'seen:1',
    };
    store.append([ev]); // leaves a group open (committed within a second)
    store.ledger().update('daemon', () => entry({ sessionKey: 'k' }));
    const cli = openLedgerFile(path);
    cli.ledger.update('cli', () => entry({ sessionKey: 'k' }));
    expect(store.ledger().get('cli')?.sessionKey).toBe('k');
    expect(cli.ledger.get('daemon')?.sessionKey).toBe('k');
    expect(store.countEvents()).toBe(1);
    cli.close();
    store.close();
  });

  it('loses and doubles nothing under concurrent writers in separate processes', async () => {
    const path = join(dir, 'e.sqlite');
    openLedgerFile(path).close();
    const script = join(dir, 'writer.mjs');
    const ledgerModule = new URL('./sqlite-ledger.ts', import.meta.url).pathname;
    writeFileSync(
      script,
      `import { openLedgerFile } from ${JSON.stringify(ledgerModule)};
const [path, who, n] = process.argv.slice(2);
const { ledger, close } = openLedgerFile(path);
for (let i = 0; i < Number(n); i++) {
  ledger.update('counter', (c) => ({ ...(c ?? { sessionKey: 'k', runId: null, agent: 'main', mode: 'fresh', model: null, thinking: null, spawnedAt: '', status: 'running', summary: null, error: null, updatedAt: '' }), retryCount: (c?.retryCount ?? 0) + 1, updatedAt: new Date().toISOString() }));
  ledger.update(who + '-' + i, () => ({ sessionKey: 'k' + i, runId: null, agent: 'main', mode: 'fresh', model: null, thinking: null, spawnedAt: '', status: 'running', summary: null, error: null, updatedAt: new Date().toISOString() }));
}
close();
`,
    );
    const n = 150;
    await Promise.all(
      ['p1', 'p2', 'p3'].map((who) =>
        run(process.execPath, ['--import', 'tsx', script, path, who, String(n)]),
      ),
    );
    const { ledger, close } = openLedgerFile(path);
    expect(ledger.get('counter')?.retryCount).toBe(3 * n);
    expect(ledger.list().length).toBe(3 * n + 1);
    close();
  }, 60_000);
});
