import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveGatewayToken } from './config-token.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function stateDir(config?: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-oc-'));
  dirs.push(d);
  if (config !== undefined) fs.writeFileSync(path.join(d, 'openclaw.json'), config);
  return d;
}

describe('resolveGatewayToken', () => {
  it('prefers OPENCLAW_GATEWAY_TOKEN', () => {
    expect(resolveGatewayToken({ token: 'a', stateDir: stateDir('{gateway:{auth:{token:"b"}}}') })).toEqual({
      token: 'a',
      origin: 'OPENCLAW_GATEWAY_TOKEN',
    });
  });

  it('reads gateway.auth.token from JSON5 openclaw.json (comments, unquoted keys, trailing commas)', () => {
    const d = stateDir(
      `/* setup */ {\n gateway: { mode: 'local', auth: { mode: "token", token: "ocx-test-token-123456", }, },\n agents: { list: [ { id: 'main', }, ], },\n}`,
    );
    expect(resolveGatewayToken({ stateDir: d })).toEqual({
      token: 'ocx-test-token-123456',
      origin: `gateway.auth.token in ${path.join(d, 'openclaw.json')}`,
    });
  });

  it('reads the real fixture config', () => {
    const fixture = path.resolve(import.meta.dirname, '../../../test/fixtures/openclaw/v2026.9.6');
    expect(resolveGatewayToken({ stateDir: fixture }).token).toMatch(/\S{8,}/);
  });

  it('explains a missing, broken or token-less config without throwing', () => {
    const missing = resolveGatewayToken({ stateDir: stateDir() });
    expect(missing.token).toBeUndefined();
    expect(missing.problem).toBe('ENOENT');
    expect(resolveGatewayToken({ stateDir: stateDir('{gateway: {') }).origin).toContain('not valid JSON5');
    expect(resolveGatewayToken({ stateDir: stateDir('{gateway:{auth:{mode:"none"}}}') }).origin).toContain(
      'has no gateway.auth.token',
    );
    expect(resolveGatewayToken({}).token).toBeUndefined();
  });
});
