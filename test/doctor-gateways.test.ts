/**
 * `clawpulse doctor` with OPENCLAW_GATEWAYS: a row per named gateway. One answering with its own
 * token is ok, one refusing the token names the variable to set, a remote plain ws:// URL is
 * said to travel unencrypted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectChecks } from '../src/cli/doctor/doctor.js';
import type { CheckResult } from '../src/cli/doctor/report.js';
import { type FakeGateway, startFakeGateway } from '../src/ingest/gateway/fake-gateway.helper.js';
import { tempDir } from '../src/test-support/temp-dir.js';

const SCOPES = ['operator.read', 'operator.write', 'operator.admin'];
const hello = {
  type: 'hello-ok',
  server: { version: '2026.9.6' },
  auth: { role: 'operator', scopes: SCOPES },
};
const row = (checks: CheckResult[], name: string) => checks.find((c) => c.name === name);

describe('clawpulse doctor: named gateways', () => {
  let a: FakeGateway;
  let b: FakeGateway;
  beforeAll(async () => {
    a = await startFakeGateway({ token: 'token-a', hello });
    b = await startFakeGateway({ token: 'token-b', hello });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('checks each gateway with its own token', async () => {
    const root = tempDir('clawpulse-doctor-gateways-');
    const checks = await collectChecks(
      {
        HOME: root,
        CLAWPULSE_HOME: root,
        OPENCLAW_STATE_DIR: root,
        OPENCLAW_GATEWAYS: `a=${a.url},b=${b.url},far=ws://192.0.2.1:18789`,
        OPENCLAW_GATEWAY_TOKEN_A: 'token-a',
        OPENCLAW_GATEWAY_TOKEN_B: 'wrong',
        OPENCLAW_GATEWAY_TOKEN_FAR: 'token-far',
        HEALTH_PORT: 'any',
      },
      { timeoutMs: 1000 },
    );
    expect(row(checks, 'gateway a')).toMatchObject({ status: 'ok' });
    expect(row(checks, 'gateway a')?.detail).toMatch(
      /OpenClaw 2026\.9\.6, protocol \d, token from OPENCLAW_GATEWAY_TOKEN_A/,
    );
    expect(row(checks, 'gateway b')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('OPENCLAW_GATEWAY_TOKEN_B'),
    });
    expect(row(checks, 'gateway b')?.detail).not.toContain('wrong');
    const far = row(checks, 'gateway far');
    expect(far?.status).toBe('fail');
    expect(far?.detail).toMatch(/remote plain ws:\/\/ URL.*unencrypted/);
  }, 20_000);
});
