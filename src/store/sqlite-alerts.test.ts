import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { PulseEvent } from '../model/events.js';
import { tempDir } from '../test-support/temp-dir.js';
import { alertOf, describeAlertStoreContract } from './alert-store.contract.js';
import { createSqliteAlerts, openAlertsFile } from './sqlite-alerts.js';
import { createSqliteStore } from './sqlite-store.js';

const dir = tempDir('clawpulse-alerts-');

describeAlertStoreContract('SQLite', {
  open: async (id) => {
    const db = new Database(join(dir, `${id}.sqlite`));
    db.pragma('journal_mode = WAL');
    return { alerts: createSqliteAlerts(db), close: () => void db.close() };
  },
});

describe('alerts (SQLite store file)', () => {
  it("live in the daemon store's file: recorded through the store, read by a CLI's own read-only connection", () => {
    const path = join(dir, 'daemon.sqlite');
    const store = createSqliteStore(path);
    const ev: PulseEvent = {
      type: 'session.seen',
      ts: 1,
      source: 'files',
      sessionKey: 'k',
      agentId: 'main',
      dedupeKey: 'seen:1',
    };
    store.append([ev]); // leaves a group open: recording an alert commits it first
    const a = alertOf({ sessionKey: 'k' });
    store.alerts().record(a);
    const cli = openAlertsFile(path);
    expect(cli.alerts.list()).toEqual([a]);
    expect(() => cli.alerts.record(alertOf({ sessionKey: 'other' }))).toThrow(/read-only|readonly/i);
    cli.close();
    expect(store.countEvents()).toBe(1);
    store.close();
  });

  it('a store that never had an alert lists none (no table is created by a reader)', () => {
    const path = join(dir, 'none.sqlite');
    createSqliteStore(path).close();
    const cli = openAlertsFile(path);
    expect(cli.alerts.list()).toEqual([]);
    expect(cli.alerts.counts().firing).toBe(0);
    cli.close();
  });

  it('a missing file or one that is not a store is a clear error', () => {
    expect(() => openAlertsFile(join(dir, 'missing.sqlite'))).toThrow(
      /directory does not exist|unable to open|no such file/i,
    );
    const junk = join(dir, 'junk.sqlite');
    writeFileSync(junk, 'this is not a database, just text long enough to be read as one........');
    expect(() => openAlertsFile(junk)).toThrow(/not a database/i);
  });
});
