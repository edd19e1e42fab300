/**
 * The `live-status` bin of the original Live Status: watcher commands run clawpulse's, the v1
 * per-call commands are no-ops that say so, so old scripts and agent prompts keep working.
 */
import { describe, expect, it } from 'vitest';
import { findCommand, runLiveStatus, V1_COMMANDS, WATCHER_COMMANDS } from '../src/cli/live-status.js';

function io(env: NodeJS.ProcessEnv = {}) {
  const out = {
    stdout: '',
    stderr: '',
    ran: [] as Array<{ args: readonly string[]; env: NodeJS.ProcessEnv }>,
  };
  return {
    out,
    io: {
      stdout: (s: string) => {
        out.stdout += s;
      },
      stderr: (s: string) => {
        out.stderr += s;
      },
      runClawpulse: (args: readonly string[], e: NodeJS.ProcessEnv) => {
        out.ran.push({ args, env: e });
        return args[0] === 'status' ? 3 : 0;
      },
      env,
    },
  };
}

describe('live-status', () => {
  it('maps the watcher commands to clawpulse start --fork / stop / status, passing the exit code', () => {
    expect(WATCHER_COMMANDS).toEqual({
      'start-watcher': ['start', '--fork'],
      'stop-watcher': ['stop'],
      status: ['status'],
    });
    const t = io({ MM_BOT_TOKEN: 'old-token', MM_BASE_URL: 'https://chat.example.com' });
    expect(runLiveStatus(['start-watcher'], t.io)).toBe(0);
    expect(runLiveStatus(['stop-watcher'], t.io)).toBe(0);
    expect(runLiveStatus(['status', '--json'], t.io)).toBe(3);
    expect(t.out.ran.map((r) => r.args)).toEqual([['start', '--fork'], ['stop'], ['status', '--json']]);
    // the original's variable names reach clawpulse under its own
    expect(t.out.ran[0]?.env).toMatchObject({ MM_TOKEN: 'old-token', MM_URL: 'https://chat.example.com' });
  });

  it('makes every v1 per-call command a no-op with one line on stderr, exit 0, nothing on stdout', () => {
    expect(V1_COMMANDS).toEqual(['create', 'update', 'complete', 'delete']);
    for (const argv of [
      ['create', '🚀 **Task Started:** Initializing...'],
      ['--channel', 'abcdefghijklmnopqrstuvwxyz', '--reply-to', 'root', 'create', 'Starting'],
      ['--channel=abc', '--agent', 'god-agent', 'create', 'x'],
      ['update', 'p6xyz', '✅ **Task Complete**\n```\n[10:00] Step 1... OK\n```'],
      ['complete', 'p6xyz'],
      ['delete', 'p6xyz'],
      ['update', '', 'the id from a create that printed nothing'],
    ]) {
      const t = io();
      expect(runLiveStatus(argv, t.io)).toBe(0);
      expect(t.out.stdout).toBe('');
      expect(t.out.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(t.out.stderr).toContain('status is automatic now');
      expect(t.out.ran).toEqual([]);
    }
  });

  it('refuses what it does not know, and helps', () => {
    let t = io();
    expect(runLiveStatus(['frobnicate'], t.io)).toBe(2);
    expect(t.out.stderr).toContain('unknown command "frobnicate"');
    t = io();
    expect(runLiveStatus([], t.io)).toBe(2);
    t = io();
    expect(runLiveStatus(['--help'], t.io)).toBe(0);
    expect(t.out.stdout).toMatch(/start-watcher .*clawpulse start --fork/);
    expect(findCommand(['--token', 't', '--host', 'h', 'update', 'id'])).toEqual({
      command: 'update',
      rest: ['id'],
    });
  });
});
