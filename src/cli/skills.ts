/**
 * `clawpulse skills install [--force]`: copies the skills shipped in `skills/` into the OpenClaw
 * state dir's `skills/<name>/SKILL.md` (OpenClaw's managed skills, seen by every agent of that
 * state). Idempotent: an identical file is left alone. A file installed by us and unchanged
 * since (its hash is in `.clawpulse-skill.json` beside it) is updated to this version; any
 * other file there (edited by the user, or another skill of that name) is kept unless --force.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../version.js';

export const SHIPPED_SKILLS = ['openclaw-status-monitor', 'clawpulse'] as const;
const MARKER = '.clawpulse-skill.json';

/** the package's skills/ folder (two levels above src/cli and dist/cli alike) */
export function shippedSkillsDir(): string {
  return fileURLToPath(new URL('../../skills/', import.meta.url));
}

export type InstallAction = 'installed' | 'updated' | 'unchanged' | 'replaced' | 'kept';

export interface InstallReport {
  name: string;
  file: string;
  action: InstallAction;
  /** other folders under skills/ whose SKILL.md has the same name (the original python skill) */
  duplicates: string[];
}

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

function readMarker(dir: string): { sha256?: string } | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8')) as { sha256?: string };
  } catch {
    return undefined;
  }
}

function writeSkill(dir: string, content: Buffer): void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'SKILL.md');
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
  fs.writeFileSync(
    path.join(dir, MARKER),
    `${JSON.stringify({ sha256: sha(content), version: VERSION, installedAt: new Date().toISOString() }, null, 2)}\n`,
  );
}

/** installs every shipped skill; never throws for one skill's problem that the report can say */
export function installSkillFiles(
  stateDir: string,
  force: boolean,
  sourceDir = shippedSkillsDir(),
): InstallReport[] {
  const root = path.join(stateDir, 'skills');
  const reports: InstallReport[] = [];
  for (const name of SHIPPED_SKILLS) {
    const content = fs.readFileSync(path.join(sourceDir, name, 'SKILL.md'));
    const dir = path.join(root, name);
    const file = path.join(dir, 'SKILL.md');
    let action: InstallAction;
    let current: Buffer | undefined;
    try {
      current = fs.readFileSync(file);
    } catch {
      current = undefined;
    }
    if (!current) {
      writeSkill(dir, content);
      action = 'installed';
    } else if (current.equals(content)) {
      if (readMarker(dir)?.sha256 !== sha(content)) writeSkill(dir, content);
      action = 'unchanged';
    } else if (readMarker(dir)?.sha256 === sha(current)) {
      writeSkill(dir, content);
      action = 'updated';
    } else if (force) {
      writeSkill(dir, content);
      action = 'replaced';
    } else action = 'kept';
    reports.push({ name, file, action, duplicates: sameNameElsewhere(root, name, dir) });
  }
  return reports;
}

/** SKILL.md files under `root` (two levels deep) naming skill `name`, outside `except` */
function sameNameElsewhere(root: string, name: string, except: string): string[] {
  const found: string[] = [];
  const visit = (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const sub = path.join(dir, e.name);
      if (sub === except) continue;
      const skill = path.join(sub, 'SKILL.md');
      if (fs.existsSync(skill)) {
        if (frontmatterName(fs.readFileSync(skill, 'utf8')) === name) found.push(skill);
      } else if (depth < 2) visit(sub, depth + 1);
    }
  };
  visit(root, 1);
  return found;
}

export function frontmatterName(text: string): string | undefined {
  const fm = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text)?.[1];
  const m = fm && /^name:\s*["']?([^"'\r\n]+?)["']?\s*$/m.exec(fm);
  return m ? (m[1] as string) : undefined;
}

function onPath(bin: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      fs.accessSync(path.join(dir, bin), fs.constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** the command: prints one line per skill; exit 1 when a skill was kept (edited) without --force */
export function installSkills(stateDir: string, force: boolean): number {
  const reports = installSkillFiles(stateDir, force);
  const words: Record<InstallAction, string> = {
    installed: 'installed',
    updated: 'updated to this version',
    unchanged: 'up to date',
    replaced: 'replaced (--force)',
    kept: 'kept: it was edited or is not the one clawpulse installed; --force replaces it',
  };
  for (const r of reports) {
    process.stdout.write(`${r.name}: ${words[r.action]} (${r.file})\n`);
    for (const d of r.duplicates)
      process.stdout.write(
        `  note: ${d} is also named "${r.name}" (an older copy, such as the status_uploader.py skill?); remove it so OpenClaw loads only one\n`,
      );
  }
  if (!onPath('clawpulse'))
    process.stdout.write(
      'note: `clawpulse` is not on PATH, so OpenClaw lists these skills as not eligible until it is (npm link, or npm install -g clawpulse)\n',
    );
  process.stdout.write('OpenClaw picks them up on the next agent turn; `openclaw skills list` shows them.\n');
  return reports.some((r) => r.action === 'kept') ? 1 : 0;
}
