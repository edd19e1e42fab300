import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/temp-dir.js';
import { createUploaderLog, formatLocalTime, lastLines, rotatedFiles } from './log-file.js';

const at = new Date(2026, 2, 29, 18, 35, 0).getTime(); // local time, as the original's asctime

function files() {
  const dir = tempDir('clawpulse-uplog-');
  return {
    dir,
    log: path.join(dir, 'status_uploader.log'),
    errorLog: path.join(dir, 'status_uploader_error.log'),
  };
}

describe('uploader log files', () => {
  it('writes `YYYY-MM-DD HH:MM:SS - LEVEL - message`; errors go to the error log too', () => {
    const f = files();
    const echoed: string[] = [];
    const log = createUploaderLog({ ...f, now: () => at, echo: (l) => echoed.push(l) });
    log.info("Upload success: ['main', 'coding']");
    log.warn('Retrying the upload in 5 s (attempt 2 of 5)');
    log.error('HTTP error: 401 - Unauthorized', 'HTTP 401: Unauthorized');
    expect(fs.readFileSync(f.log, 'utf8')).toBe(
      [
        "2026-03-29 18:35:00 - INFO - Upload success: ['main', 'coding']",
        '2026-03-29 18:35:00 - WARNING - Retrying the upload in 5 s (attempt 2 of 5)',
        '2026-03-29 18:35:00 - ERROR - HTTP error: 401 - Unauthorized',
        '',
      ].join('\n'),
    );
    expect(fs.readFileSync(f.errorLog, 'utf8')).toBe(
      '2026-03-29 18:35:00 - ERROR - HTTP 401: Unauthorized\n',
    );
    expect(echoed).toHaveLength(3);
    expect(formatLocalTime(at)).toBe('2026-03-29 18:35:00');
  });

  it('rotates a file above the limit to <name>.YYYYMMDD_HHMMSS.log and keeps the last few', () => {
    const f = files();
    let now = at;
    const log = createUploaderLog({ ...f, now: () => now, maxBytes: 200, keep: 2 });
    const line = `Upload success: ['${'a'.repeat(40)}']`; // 90 bytes a line with the prefix
    log.info(line);
    log.info(line);
    expect(fs.statSync(f.log).size).toBeGreaterThan(100);
    expect(fs.statSync(f.log).size).toBeLessThanOrEqual(200);
    log.info(line); // 3 lines: 270 > 200, not yet rotated (checked before a write)
    expect(rotatedFiles(f.dir, 'status_uploader')).toEqual([]);
    log.info(line);
    expect(rotatedFiles(f.dir, 'status_uploader').map((p) => path.basename(p))).toEqual([
      'status_uploader.20260329_183500.log',
    ]);
    expect(fs.readFileSync(f.log, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
    // the same second again: a suffix, not an overwrite
    for (let i = 0; i < 3; i++) log.info(line);
    now += 61_000;
    for (let i = 0; i < 4; i++) log.info(line);
    const rotated = rotatedFiles(f.dir, 'status_uploader').map((p) => path.basename(p));
    expect(rotated).toEqual(['status_uploader.20260329_183500_1.log', 'status_uploader.20260329_183601.log']);
    // the error log rotates on its own, under its own name
    for (let i = 0; i < 4; i++) log.error(line);
    expect(rotatedFiles(f.dir, 'status_uploader_error').map((p) => path.basename(p))).toEqual([
      'status_uploader_error.20260329_183601.log',
    ]);
  });

  it('never throws when the log cannot be written', () => {
    const f = files();
    fs.mkdirSync(f.log); // a directory where the file should be
    const log = createUploaderLog({ ...f, now: () => at });
    expect(() => log.info('x')).not.toThrow();
  });

  it('reads the last lines of a file (and none of a missing one)', () => {
    const f = files();
    fs.writeFileSync(f.log, 'a\nb\n\nc\nd\ne\nf\n');
    expect(lastLines(f.log, 5)).toEqual(['b', 'c', 'd', 'e', 'f']);
    expect(lastLines(path.join(f.dir, 'nope.log'), 5)).toEqual([]);
  });
});
