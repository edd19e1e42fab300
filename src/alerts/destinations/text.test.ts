import { describe, expect, it } from 'vitest';
import { firing, resolved } from './test-kit.helper.js';
import { clip, fitAlertText, markdown, plainText, slackMrkdwn } from './text.js';

describe('alert text', () => {
  it('clips to the limit with an ellipsis and never splits a surrogate pair', () => {
    expect(clip('abcdef', 6)).toBe('abcdef');
    expect(clip('abcdef', 4)).toBe('abc…');
    const cut = clip('🙂🙂🙂', 4);
    expect(cut.length).toBeLessThanOrEqual(4);
    expect(cut).toBe('🙂…');
  });

  it('renders facts and the action, in each style', () => {
    const a = firing({ action: 'aborted the run', gateway: 'gw', label: 'a<b' });
    expect(fitAlertText(a, plainText, 1000)).toBe(
      '🔴 FIRING critical · stuck: session agent:main:main stuck for 12 min in exec\n' +
        'session agent:main:main · label a<b · agent main · 720000 ms (threshold 300000 ms) · host box-1 · gateway gw\n' +
        'Action: aborted the run',
    );
    expect(fitAlertText(a, slackMrkdwn, 1000)).toContain('label a&lt;b');
    expect(fitAlertText(resolved(a), markdown, 1000).split('\n')[0]).toBe(
      '✅ **RESOLVED · stuck**: session agent:main:main stuck for 12 min in exec (cleared)',
    );
  });

  it('gives way in the message first: the head and the facts stay', () => {
    const out = fitAlertText(firing({ message: '<>'.repeat(5000) }), slackMrkdwn, 500);
    expect(out.length).toBeLessThanOrEqual(500);
    expect(out).toContain('*FIRING critical · stuck*');
    expect(out).toContain('session `agent:main:main`');
    expect(out).not.toMatch(/&[a-z]*…/);
  });
});
