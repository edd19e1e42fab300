import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JS hook shipped for OpenClaw
import handler from '../hooks/clawpulse/handler.js';
import { tempDir } from '../src/test-support/temp-dir.js';

describe('OpenClaw gateway:startup hook', () => {
  it('runs `clawpulse start --fork` on gateway:startup only', async () => {
    const dir = tempDir('clawpulse-hook-');
    const bin = join(dir, 'fake-clawpulse');
    const out = join(dir, 'args.txt');
    writeFileSync(bin, `#!/bin/sh\necho "$@" > ${out}\n`);
    chmodSync(bin, 0o755);
    const env = { ...process.env, CLAWPULSE_BIN: bin };
    expect(await handler({ type: 'command', action: 'new' }, env)).toEqual({ started: false });
    const r = await handler(
      { type: 'gateway', action: 'startup', sessionKey: 'gateway:startup', context: {} },
      env,
    );
    expect(r.started).toBe(true);
    await expect
      .poll(() => existsSync(out) && readFileSync(out, 'utf8').trim(), { timeout: 5000 })
      .toBe('start --fork');
  });

  it('never throws when clawpulse is not installed', async () => {
    const r = await handler(
      { type: 'gateway', action: 'startup' },
      { ...process.env, CLAWPULSE_BIN: '/nonexistent/clawpulse' },
    );
    expect(r.started).toBe(false);
    expect(r.error).toMatch(/ENOENT/);
  });

  it('declares the gateway:startup event in HOOK.md', () => {
    const md = readFileSync(new URL('../hooks/clawpulse/HOOK.md', import.meta.url), 'utf8');
    expect(md).toMatch(/"events": \["gateway:startup"\]/);
  });
});
