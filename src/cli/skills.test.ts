import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/temp-dir.js';
import { frontmatterName, installSkillFiles, SHIPPED_SKILLS, shippedSkillsDir } from './skills.js';

const actions = (r: ReturnType<typeof installSkillFiles>) =>
  Object.fromEntries(r.map((x) => [x.name, x.action]));

describe('clawpulse skills install', () => {
  it('ships two skills whose frontmatter names match their folders and require the clawpulse binary', () => {
    for (const name of SHIPPED_SKILLS) {
      const text = fs.readFileSync(path.join(shippedSkillsDir(), name, 'SKILL.md'), 'utf8');
      expect(frontmatterName(text)).toBe(name);
      const description = /^description: (.+)$/m.exec(text)?.[1] ?? '';
      expect(description.length).toBeGreaterThan(20);
      expect(description.length).toBeLessThan(160); // OpenClaw: one line, under 160 characters
      const metadata = /^metadata: (.+)$/m.exec(text)?.[1] ?? '';
      expect(JSON.parse(metadata)).toMatchObject({ openclaw: { requires: { bins: ['clawpulse'] } } });
    }
  });

  it('installs into <state>/skills/<name>/SKILL.md, idempotently', () => {
    const state = tempDir('clawpulse-skills-');
    expect(actions(installSkillFiles(state, false))).toEqual({
      'openclaw-status-monitor': 'installed',
      clawpulse: 'installed',
    });
    for (const name of SHIPPED_SKILLS)
      expect(fs.readFileSync(path.join(state, 'skills', name, 'SKILL.md'))).toEqual(
        fs.readFileSync(path.join(shippedSkillsDir(), name, 'SKILL.md')),
      );
    expect(actions(installSkillFiles(state, false))).toEqual({
      'openclaw-status-monitor': 'unchanged',
      clawpulse: 'unchanged',
    });
  });

  it('updates a skill it installed, keeps one the user edited unless --force', () => {
    const state = tempDir('clawpulse-skills-');
    const src = tempDir('clawpulse-skills-src-');
    for (const name of SHIPPED_SKILLS) {
      fs.mkdirSync(path.join(src, name));
      fs.copyFileSync(path.join(shippedSkillsDir(), name, 'SKILL.md'), path.join(src, name, 'SKILL.md'));
    }
    installSkillFiles(state, false, src);
    // a new clawpulse version changes both; the user edited one of them
    for (const name of SHIPPED_SKILLS)
      fs.appendFileSync(path.join(src, name, 'SKILL.md'), '\nNew in this version.\n');
    const edited = path.join(state, 'skills', 'clawpulse', 'SKILL.md');
    fs.appendFileSync(edited, '\nMy own note.\n');
    expect(actions(installSkillFiles(state, false, src))).toEqual({
      'openclaw-status-monitor': 'updated',
      clawpulse: 'kept',
    });
    expect(fs.readFileSync(edited, 'utf8')).toContain('My own note.');
    expect(actions(installSkillFiles(state, true, src))).toEqual({
      'openclaw-status-monitor': 'unchanged',
      clawpulse: 'replaced',
    });
    expect(fs.readFileSync(edited, 'utf8')).not.toContain('My own note.');
    expect(fs.readFileSync(edited, 'utf8')).toContain('New in this version.');
  });

  it('keeps a same-named skill it did not install (the original python skill) and names copies elsewhere', () => {
    const state = tempDir('clawpulse-skills-');
    const original = '---\nname: openclaw-status-monitor\ndescription: the python one\n---\n';
    fs.mkdirSync(path.join(state, 'skills', 'openclaw-status-monitor'), { recursive: true });
    fs.writeFileSync(path.join(state, 'skills', 'openclaw-status-monitor', 'SKILL.md'), original);
    fs.mkdirSync(path.join(state, 'skills', 'openclaw-status-monitor.skill'), { recursive: true });
    fs.writeFileSync(path.join(state, 'skills', 'openclaw-status-monitor.skill', 'SKILL.md'), original);
    const r = installSkillFiles(state, false);
    expect(actions(r)).toEqual({ 'openclaw-status-monitor': 'kept', clawpulse: 'installed' });
    expect(r[0]?.duplicates).toEqual([
      path.join(state, 'skills', 'openclaw-status-monitor.skill', 'SKILL.md'),
    ]);
  });
});
