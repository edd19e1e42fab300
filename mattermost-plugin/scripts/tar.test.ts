import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTar } from './tar.mjs';

describe('createTar', () => {
  it('writes an archive that GNU tar lists and extracts byte for byte', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-tar-'));
    try {
      const big = Buffer.alloc(1300, 7); // spans blocks and needs padding
      const tar = createTar(
        [
          { path: 'p/', dir: true },
          { path: 'p/a.json', data: '{"x":1}' },
          { path: 'p/big.bin', data: big },
          { path: 'p/empty', data: '' },
        ],
        Date.UTC(2026, 0, 1),
      );
      expect(tar.length % 512).toBe(0);
      const file = path.join(dir, 't.tar');
      fs.writeFileSync(file, tar);
      const list = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n');
      expect(list).toEqual(['p/', 'p/a.json', 'p/big.bin', 'p/empty']);
      execFileSync('tar', ['-xf', file, '-C', dir]);
      expect(fs.readFileSync(path.join(dir, 'p/a.json'), 'utf8')).toBe('{"x":1}');
      expect(fs.readFileSync(path.join(dir, 'p/big.bin')).equals(big)).toBe(true);
      expect(fs.statSync(path.join(dir, 'p/empty')).size).toBe(0);
      expect(() => createTar([{ path: `${'x'.repeat(101)}`, data: '' }])).toThrow(/too long/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
