import { describe, expect, it } from 'vitest';
import { formatLogLine, prettyDestination, resolveLogFormat, safeFdWriter } from './log-format.js';
import { createLogger } from './logger.js';

const at = new Date(2026, 0, 2, 14, 3, 7).getTime();

describe('human log lines', () => {
  it('time, level, message and the short fields; no config dump, no pid/hostname', () => {
    const line = JSON.stringify({
      level: 30,
      time: at,
      app: 'clawpulse',
      pid: 1,
      hostname: 'h',
      msg: 'clawpulse running: dashboard http://127.0.0.1:9090/',
      port: 9090,
      sources: ['files', 'gateway'],
      config: { mattermost: { url: 'x' }, http: { port: 9090 } },
      detail: 'following 3 files',
    });
    expect(formatLogLine(line, { color: false })).toBe(
      '14:03:07 INFO  clawpulse running: dashboard http://127.0.0.1:9090/  port=9090 sources=files,gateway detail="following 3 files"',
    );
  });

  it('errors by their message (code first when the message lacks it), the stack only when asked', () => {
    const err = {
      type: 'Error',
      message: 'connect ECONNREFUSED 127.0.0.1:18789',
      code: 'ECONNREFUSED',
      stack: 'Error: …\n    at x',
    };
    const line = JSON.stringify({ level: 50, time: at, msg: 'source failed to start', source: 'files', err });
    expect(formatLogLine(line, { color: false })).toBe(
      '14:03:07 ERROR source failed to start  source=files err="connect ECONNREFUSED 127.0.0.1:18789"',
    );
    const other = JSON.stringify({
      level: 40,
      time: at,
      msg: 'x',
      err: { message: 'no such file', code: 'ENOENT' },
    });
    expect(formatLogLine(other, { color: false })).toBe('14:03:07 WARN  x  err="ENOENT: no such file"');
    expect(formatLogLine(line, { color: false, stacks: true })).toContain('\nError: …\n    at x');
  });

  it('colours level and time on a terminal; a line that is not JSON passes as it is', () => {
    const line = JSON.stringify({ level: 40, time: at, msg: 'careful' });
    expect(formatLogLine(line, { color: true })).toBe('\x1b[90m14:03:07\x1b[0m \x1b[33mWARN \x1b[0m careful');
    expect(formatLogLine('clawpulse: plain text\n', { color: false })).toBe('clawpulse: plain text');
  });

  it('pino writes through the destination; secrets stay redacted', () => {
    const out: string[] = [];
    const logger = createLogger(
      'info',
      prettyDestination((t) => out.push(t), { color: false }),
    );
    logger.info({ token: 'very-secret', source: 'gateway' }, 'hello');
    logger.debug('hidden');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^\d\d:\d\d:\d\d INFO {2}hello {2}token="?\[redacted\]"? source=gateway\n$/);
    expect(out.join('')).not.toContain('very-secret');
  });

  it('auto is pretty only when stdout and stderr are terminals', () => {
    expect(resolveLogFormat('auto', { stdout: true, stderr: true })).toBe('pretty');
    expect(resolveLogFormat('auto', { stdout: false, stderr: true })).toBe('json');
    expect(resolveLogFormat('auto', { stdout: true, stderr: false })).toBe('json');
    expect(resolveLogFormat('json', { stdout: true, stderr: true })).toBe('json');
    expect(resolveLogFormat('pretty', { stdout: false, stderr: false })).toBe('pretty');
  });

  it('a writer on a closed descriptor never throws', () => {
    const write = safeFdWriter(987_654);
    expect(() => write('x\n')).not.toThrow();
    expect(() => write('y\n')).not.toThrow();
  });
});
