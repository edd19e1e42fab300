import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createSqliteStore } from './sqlite-store.js';
import { type UsageSide, usageStoreContract } from './usage-store.contract.js';

const dir = mkdtempSync(join(tmpdir(), 'clawpulse-usage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function side(path: string): UsageSide {
  const store = createSqliteStore(path);
  return {
    append: (events) => store.append(events).stored,
    usage: () => store.usage(),
    flush: () => store.flush(),
    reopen: () => {
      store.close();
      return side(path);
    },
    close: () => store.close(),
  };
}

usageStoreContract('sqlite', { open: async () => side(join(dir, `s${n++}.db`)) });
