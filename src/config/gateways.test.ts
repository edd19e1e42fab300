import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactConfig } from './config.js';
import { parseGateways, tokenVariable } from './gateways.js';

const LOCAL = 'ws://127.0.0.1:18789';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-gateways-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};
const problems = (r: ReturnType<typeof parseGateways>) => (r.ok ? [] : r.problems.map((p) => p.expected));

describe('OPENCLAW_GATEWAYS', () => {
  it('reads a list, each token from OPENCLAW_GATEWAY_TOKEN_<NAME>', () => {
    const r = parseGateways(
      ' build-2=wss://build.example.com:18789/ , laptop=ws://127.0.0.1:28789',
      { OPENCLAW_GATEWAY_TOKEN_BUILD_2: 'tok-b' },
      LOCAL,
    );
    expect(r).toEqual({
      ok: true,
      gateways: [
        {
          name: 'build-2',
          url: 'wss://build.example.com:18789',
          token: 'tok-b',
          tokenFrom: 'OPENCLAW_GATEWAY_TOKEN_BUILD_2',
          remote: true,
        },
        { name: 'laptop', url: 'ws://127.0.0.1:28789', remote: false },
      ],
    });
    expect(tokenVariable('a.b-c')).toBe('OPENCLAW_GATEWAY_TOKEN_A_B_C');
  });

  it('reads a JSON file and a YAML file, tokenFile relative to the file', () => {
    write('b.token', 'tok-from-file\n');
    const json = write(
      'gw.json',
      JSON.stringify({ gateways: [{ name: 'a', url: 'wss://a.example.com', token: 'tok-a' }] }),
    );
    const yaml = write(
      'gw.yaml',
      '# two gateways\n- name: b\n  url: wss://b.example.com:443\n  tokenFile: b.token\n- name: c\n  url: ws://[::1]:1234\n',
    );
    const j = parseGateways(json, {}, LOCAL);
    expect(j.ok && j.gateways).toEqual([
      { name: 'a', url: 'wss://a.example.com', token: 'tok-a', tokenFrom: json, remote: true },
    ]);
    const y = parseGateways(yaml, { OPENCLAW_GATEWAY_TOKEN_C: 'tok-c' }, LOCAL);
    expect(y.ok && y.gateways.map((g) => [g.name, g.url, g.token, g.remote])).toEqual([
      ['b', 'wss://b.example.com', 'tok-from-file', true],
      ['c', 'ws://[::1]:1234', 'tok-c', false],
    ]);
  });

  it('warns (does not refuse) a remote plain ws:// URL', () => {
    const r = parseGateways('far=ws://10.0.0.5:18789', { OPENCLAW_GATEWAY_TOKEN_FAR: 't' }, LOCAL);
    expect(r.ok && r.gateways[0]?.warning).toMatch(/remote plain ws:\/\/.*unencrypted; use wss:\/\//);
    const near = parseGateways('near=ws://localhost:1', {}, LOCAL);
    expect(near.ok && near.gateways[0]?.warning).toBeUndefined();
  });

  it('refuses bad input, each with what is expected', () => {
    const env = { OPENCLAW_GATEWAY_TOKEN_A: 't' };
    expect(problems(parseGateways('a=ws://127.0.0.1:1,A=ws://127.0.0.1:2', env, LOCAL))[0]).toMatch(
      /unique gateway names/,
    );
    expect(problems(parseGateways('a|b=ws://127.0.0.1:1', env, LOCAL))[0]).toMatch(/no \|/);
    expect(problems(parseGateways('a=http://127.0.0.1:1', env, LOCAL))[0]).toMatch(/ws:\/\/ or wss:\/\//);
    expect(problems(parseGateways('a=wss://u:p@x.example.com', env, LOCAL))[0]).toMatch(
      /without user:password/,
    );
    expect(problems(parseGateways('far=wss://x.example.com', {}, LOCAL))[0]).toMatch(
      /a token for the remote gateway.*OPENCLAW_GATEWAY_TOKEN_FAR/,
    );
    expect(problems(parseGateways('me=ws://127.0.0.1:18789/', {}, LOCAL))[0]).toMatch(
      /not the local gateway/,
    );
    expect(problems(parseGateways(path.join(dir, 'missing.yaml'), {}, LOCAL))[0]).toMatch(/ENOENT/);
    expect(problems(parseGateways(write('bad.yaml', 'gateways: [ {name: a'), {}, LOCAL))[0]).toMatch(
      /a JSON or YAML file/,
    );
    expect(
      problems(parseGateways(write('odd.json', '{"gateways":[{"name":"a","uri":"ws://x"}]}'), {}, LOCAL))[0],
    ).toMatch(/gateways: \[\{ name, url, token\?, tokenFile\? \}\].*gateways\.0/);
    expect(
      problems(
        parseGateways(
          write('both.yaml', '- {name: a, url: "wss://a.example.com", token: x, tokenFile: y}'),
          {},
          LOCAL,
        ),
      )[0],
    ).toMatch(/token or tokenFile, not both/);
  });

  it('is part of the config: errors as ConfigError, tokens redacted', () => {
    expect(() => loadConfig({ OPENCLAW_GATEWAYS: 'x=wss://x.example.com' })).toThrow(ConfigError);
    try {
      loadConfig({ OPENCLAW_GATEWAYS: 'x=wss://x.example.com' });
    } catch (err) {
      expect((err as ConfigError).problems[0]?.name).toBe('OPENCLAW_GATEWAYS');
    }
    const c = loadConfig({
      OPENCLAW_GATEWAYS: 'x=wss://x.example.com',
      OPENCLAW_GATEWAY_TOKEN_X: 'secret-token',
    });
    expect(c.sources.gateways.map((g) => g.name)).toEqual(['x']);
    expect(JSON.stringify(redactConfig(c as never))).not.toContain('secret-token');
    expect(loadConfig({}).sources.gateways).toEqual([]);
  });
});
