import { existsSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/temp-dir.js';
import { logFiles, openRotatingLog } from './log-file.js';

describe('rotating log file', () => {
  it('copies to .1 … .5 and truncates in place once it would pass the size', () => {
    const file = join(tempDir('clawpulse-log-'), 'clawpulse.log');
    const log = openRotatingLog(file, { maxBytes: 1000, keep: 5 });
    // a second writer on the same file, as the forked daemon's stderr is
    const stderr = openSync(file, 'a');
    const line = (i: number) =>
      `${JSON.stringify({ level: 30, msg: `line ${String(i).padStart(4, '0')}` })}\n`;
    for (let i = 0; i < 300; i++) log.write(line(i));
    writeSync(stderr, 'a crash trace\n');
    log.write(line(300));
    log.close();
    expect(log.rotations()).toBeGreaterThanOrEqual(7);
    // five rotated copies kept, none past the limit, the newest lines in the live file
    expect(logFiles(file)).toEqual([file, ...[1, 2, 3, 4, 5].map((i) => `${file}.${i}`)]);
    expect(existsSync(`${file}.6`)).toBe(false);
    for (const f of logFiles(file)) expect(statSync(f).size).toBeLessThanOrEqual(1000);
    const live = readFileSync(file, 'utf8');
    expect(live).toContain('a crash trace');
    expect(live.trimEnd().split('\n').at(-1)).toContain('line 0300');
    // nothing lost between the live file and .1: consecutive lines
    const numbers = [readFileSync(`${file}.1`, 'utf8'), live]
      .join('')
      .split('\n')
      .map((l) => /line (\d+)/.exec(l)?.[1])
      .filter(Boolean)
      .map(Number);
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBe((numbers[i - 1] as number) + 1);
  });

  it('appends to what is there', () => {
    const file = join(tempDir('clawpulse-log-'), 'clawpulse.log');
    openRotatingLog(file).write('first\n');
    const log = openRotatingLog(file);
    log.write('second\n');
    log.close();
    expect(readFileSync(file, 'utf8')).toBe('first\nsecond\n');
    expect(log.rotations()).toBe(0);
  });
});
