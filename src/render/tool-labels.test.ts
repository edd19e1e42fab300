import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_TOOL_LABELS, loadToolLabels, ToolLabelsError, toolText } from './tool-labels.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-labels-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return p;
}

describe('tool labels', () => {
  it('built-ins: label and the chosen argument', () => {
    expect(toolText({ name: 'exec', args: 'ls /tmp' }, BUILTIN_TOOL_LABELS)).toBe('exec: ls /tmp');
    expect(
      toolText({ name: 'web_search', args: '{"query":"openclaw","count":5}' }, BUILTIN_TOOL_LABELS),
    ).toBe('search: openclaw');
    expect(toolText({ name: 'sessions_list' }, BUILTIN_TOOL_LABELS)).toBe('sessions');
    expect(toolText({ name: 'unknown_tool', args: '{"a":1,"b":"x"}' }, BUILTIN_TOOL_LABELS)).toBe(
      'unknown_tool: x',
    );
    expect(toolText({ name: 'constructor' }, BUILTIN_TOOL_LABELS)).toBe('constructor');
    const long = toolText({ name: 'exec', args: `echo ${'y'.repeat(200)}\nmore` }, BUILTIN_TOOL_LABELS);
    expect(long.endsWith('…')).toBe(true);
    expect(long.length).toBe('exec: '.length + 80);
  });

  it('merges an override file', () => {
    const p = file('ok.json', JSON.stringify({ exec: 'Run', my_tool: { label: 'Mine', arg: 'target' } }));
    const labels = loadToolLabels(p);
    expect(toolText({ name: 'exec', args: '{"command":"make"}' }, labels)).toBe('Run: make');
    expect(toolText({ name: 'my_tool', args: '{"x":"no","target":"db"}' }, labels)).toBe('Mine: db');
    expect(toolText({ name: 'read', args: '/etc/hosts' }, labels)).toBe('read: /etc/hosts');
    expect(loadToolLabels(undefined)).toBe(BUILTIN_TOOL_LABELS);
  });

  it('a bad file gives a clear error naming the file', () => {
    const bad = file('bad.json', '{ not json');
    expect(() => loadToolLabels(bad)).toThrow(ToolLabelsError);
    expect(() => loadToolLabels(bad)).toThrow(`TOOL_LABELS_FILE ${bad}: not valid JSON`);
    const shape = file('shape.json', JSON.stringify({ exec: { label: 3 } }));
    expect(() => loadToolLabels(shape)).toThrow(
      new RegExp(`${shape.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*at "exec`),
    );
    const missing = path.join(dir, 'missing.json');
    expect(() => loadToolLabels(missing)).toThrow(`TOOL_LABELS_FILE ${missing}: cannot read (ENOENT)`);
  });
});
