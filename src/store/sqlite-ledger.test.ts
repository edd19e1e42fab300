import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PulseEvent } from '../model/events.js';
import { tempDir } from '../test-support/temp-dir.js';
import { describeDispatchLedgerContract, entry } from './dispatch-ledger.contract.js';
import { openLedgerFile } from './sqlite-ledger.js';
import { createSqliteStore } from './sqlite-store.js';

const dir = tempDir('clawpulse-ledger-');
const pathOf = (id: string) => join(dir, `${id}.sqlite`);

describeDispatchLedgerContract('SQLite', {
  open: (id) => openLedgerFile(pathOf(id)),
  inProcess: (id) => ({
    module: new URL('./sqlite-ledger.ts', import.meta.url).pathname,
    fn: 'openLedgerFile',
    args: [pathOf(id)],
  }),
});

describe('dispatch ledger (SQLite)', () => {
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
});
