import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { describeEventStoreContract } from './event-store.contract.js';
import { createSqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'clawpulse-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeEventStoreContract('sqlite', (id) => createSqliteStore(join(dir, `${id}.sqlite`)));

describe('sqlite store specifics', () => {
  it('uses WAL so readers never block the writer', () => {
    const path = join(dir, 'wal.sqlite');
    const s = createSqliteStore(path);
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
    s.close();
  });

  it('refuses a store written by a newer schema with a clear message', () => {
    const path = join(dir, 'newer.sqlite');
    const raw = new Database(path);
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => createSqliteStore(path)).toThrow(/schema version 99/);
  });

});
