import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/temp-dir.js';
import { dashboardUrl, describeSources, fatalReason, linesSince, logOffset } from './fork-report.js';

describe('start --fork report', () => {
  it('reads only this run’s lines; a rotated (shorter) log is all new', () => {
    const f = join(tempDir('clawpulse-fork-'), 'clawpulse.log');
    writeFileSync(f, 'clawpulse: old reason\n');
    const at = logOffset(f);
    appendFileSync(
      f,
      'clawpulse: dashboard http://127.0.0.1:4242/  (Ctrl-C stops)\n{"level":30,"msg":"x"}\n',
    );
    expect(linesSince(f, at)).toHaveLength(2);
    writeFileSync(f, 'fresh\n');
    expect(linesSince(f, at)).toEqual(['fresh']);
    expect(logOffset(join(f, 'nope'))).toBe(0);
  });

  it('the one reason: the child’s own line, else its last error, never the dashboard line', () => {
    const json = (level: number, msg: string, err?: string) =>
      JSON.stringify({ level, msg, ...(err ? { err: { message: err } } : {}) });
    expect(
      fatalReason([
        'clawpulse: dashboard http://127.0.0.1:1/  (Ctrl-C stops)',
        json(30, 'starting'),
        'clawpulse: port 9090 on 127.0.0.1 is in use',
      ]),
    ).toBe('port 9090 on 127.0.0.1 is in use');
    expect(
      fatalReason([json(30, 'starting'), json(50, 'store failed', 'SQLITE_CANTOPEN'), json(30, 'x')]),
    ).toBe('store failed: SQLITE_CANTOPEN');
    expect(fatalReason(['clawpulse: dashboard http://127.0.0.1:1/', 'Segmentation fault'])).toBe(
      'Segmentation fault',
    );
    expect(fatalReason([json(30, 'only info')])).toBeUndefined();
    expect(dashboardUrl(['x', 'clawpulse: dashboard http://127.0.0.1:4242/  (Ctrl-C stops)'])).toBe(
      'http://127.0.0.1:4242/',
    );
  });

  it('names the sources that came up and those that did not', () => {
    expect(
      describeSources([
        { id: 'files', state: 'live', detail: 'following 2 transcripts' },
        { id: 'sqlite', state: 'standby' },
        { id: 'gateway', state: 'down', detail: 'no gateway' },
        { id: 'x', state: 'starting' },
      ]),
    ).toEqual([
      '  sources up: files (following 2 transcripts); sqlite',
      '  sources still starting: x',
      '  sources down: gateway (no gateway)',
    ]);
  });
});
