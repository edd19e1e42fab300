/**
 * The shipped OpenClaw skills against the real OpenClaw 2026.9.6: `clawpulse skills install`
 * (the real CLI, run as a `clawpulse` command on PATH) into a throwaway state dir, then
 * `openclaw skills list --json` must list both as managed skills that are eligible (ready):
 * their frontmatter parses and their gate (`requires.bins: ["clawpulse"]`) is met. Without
 * `clawpulse` on PATH the same listing must show them not eligible, missing that binary, so the
 * gate is real and not skipped. `skills list` needs no gateway or model: with none answering,
 * the CLI reads the local inventory (the run's gateway port has nothing behind it).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureInstalled, type OpenclawVersion } from './install.js';
import { cleanupOutsideTemp, createOpenclawEnv, type OpenclawEnv } from './run-openclaw.js';

const VERSION: OpenclawVersion = '2026.9.6';
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SKILLS = ['openclaw-status-monitor', 'clawpulse'];

interface Listed {
  name: string;
  description: string;
  eligible: boolean;
  disabled: boolean;
  source: string;
  missing: { bins: string[] };
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs = 120_000) {
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, out, err });
    });
  });
}

describe(`clawpulse skills on OpenClaw ${VERSION}`, () => {
  let oc: OpenclawEnv;
  let binDir: string;
  let tmpOpenclawExisted = false;
  let failed = false;

  beforeEach((ctx) => {
    ctx.onTestFailed(() => {
      failed = true;
    });
  });

  beforeAll(async () => {
    const installed = await ensureInstalled(() => undefined);
    tmpOpenclawExisted = fs.existsSync('/tmp/openclaw');
    // no model is asked anything here; the config still names one, as every run's does
    oc = await createOpenclawEnv({ version: VERSION, installed, modelBaseUrl: 'http://127.0.0.1:9/v1' });
    // `clawpulse` on PATH: the repository's CLI (src/cli/main.ts through tsx, on this Node)
    binDir = path.join(oc.root, 'bin');
    fs.mkdirSync(binDir);
    const tsx = import.meta.resolve('tsx');
    fs.writeFileSync(
      path.join(binDir, 'clawpulse'),
      `#!/bin/sh\nexec "${process.execPath}" --import "${tsx}" "${path.join(REPO, 'src/cli/main.ts')}" "$@"\n`,
      { mode: 0o755 },
    );
  });

  afterAll(() => {
    if (!oc) return;
    cleanupOutsideTemp(oc, tmpOpenclawExisted);
    if (failed || process.env.CLAWPULSE_CONFORMANCE_KEEP === '1') console.log(`[skills] kept ${oc.root}`);
    else fs.rmSync(oc.root, { recursive: true, force: true });
  });

  const withBin = () => ({ ...oc.env, PATH: `${binDir}${path.delimiter}${oc.env.PATH}` });

  async function list(env: NodeJS.ProcessEnv): Promise<Map<string, Listed>> {
    const r = await run(oc.node, [oc.openclawBin, 'skills', 'list', '--json'], env, oc.workspace);
    fs.writeFileSync(path.join(oc.root, `skills-list-${Date.now()}.json`), r.out);
    expect(r.code, r.err).toBe(0);
    const json = JSON.parse(r.out.slice(r.out.indexOf('{'))) as {
      managedSkillsDir: string;
      skills: Listed[];
    };
    expect(json.managedSkillsDir).toBe(path.join(oc.stateDir, 'skills'));
    return new Map(json.skills.map((s) => [s.name, s]));
  }

  it('clawpulse skills install puts both skills into the state dir', async () => {
    const r = await run(path.join(binDir, 'clawpulse'), ['skills', 'install'], withBin(), oc.workspace);
    expect(r.code, r.err).toBe(0);
    for (const name of SKILLS) {
      expect(r.out).toContain(`${name}: installed (${path.join(oc.stateDir, 'skills', name, 'SKILL.md')})`);
      expect(fs.existsSync(path.join(oc.stateDir, 'skills', name, 'SKILL.md'))).toBe(true);
    }
    expect(r.out).not.toContain('not on PATH');
  });

  it('openclaw skills list --json shows both as managed, eligible skills', async () => {
    const skills = await list(withBin());
    for (const name of SKILLS) {
      const s = skills.get(name);
      expect(s, `${name} is listed`).toBeDefined();
      expect(s).toMatchObject({ name, eligible: true, disabled: false, source: 'openclaw-managed' });
      expect(s?.missing.bins).toEqual([]);
      const shipped = fs.readFileSync(path.join(REPO, 'skills', name, 'SKILL.md'), 'utf8');
      expect(shipped).toContain(`description: ${s?.description}`);
    }
  });

  it('without clawpulse on PATH they are listed but not eligible (the gate is checked)', async () => {
    const skills = await list(oc.env);
    for (const name of SKILLS)
      expect(skills.get(name)).toMatchObject({ eligible: false, missing: { bins: ['clawpulse'] } });
  });
});
