import { describe, expect, it } from 'vitest';
import { errorText, formatCost, shortKey } from './format.js';
import { BUILTIN_TOOL_LABELS, toolLabel, toolText } from './tool-labels.js';

describe('one vocabulary', () => {
  it('errors read `529 Overloaded`: never the code twice, a provider JSON body reduced to its message', () => {
    expect(errorText({ message: 'Overloaded', status: 529 })).toBe('529 Overloaded');
    expect(errorText({ message: '529 Overloaded', status: 529 })).toBe('529 Overloaded');
    expect(errorText({ message: 'Error: 529 Overloaded', status: 529 })).toBe('Error: 529 Overloaded');
    expect(errorText({ message: 'upstream status 529: Overloaded', status: 529 })).toBe(
      'upstream status 529: Overloaded',
    );
    expect(
      errorText({
        message: '529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
        status: 529,
      }),
    ).toBe('529 Overloaded');
    expect(errorText({ message: '{"type":"overloaded_error"}', status: 529 })).toBe(
      '529 {"type":"overloaded_error"}',
    );
    expect(errorText({ message: 'fetch failed' })).toBe('fetch failed');
    expect(errorText({ message: '', status: 500 })).toBe('500');
    // 5290 is not 529
    expect(errorText({ message: 'took 5290 ms', status: 529 })).toBe('529 took 5290 ms');
  });

  it('cost: $0.0042, $0.42, $123; nothing for zero', () => {
    expect([0, -1, Number.NaN, 0.0042, 0.01, 0.4249, 99.99, 123.4].map(formatCost)).toEqual([
      '',
      '',
      '',
      '$0.0042',
      '$0.01',
      '$0.42',
      '$99.99',
      '$123',
    ]);
  });

  it('short keys drop agent:<id>:', () => {
    expect(shortKey('agent:main:main')).toBe('main');
    expect(shortKey('agent:ops:mattermost:channel:abc')).toBe('mattermost:channel:abc');
    expect(shortKey('custom')).toBe('custom');
  });

  it('tool labels: the same word for a tool alone and with its argument', () => {
    expect(toolLabel('sessions_spawn', BUILTIN_TOOL_LABELS)).toBe('spawn');
    expect(toolText({ name: 'sessions_spawn', args: '{"label":"planner"}' }, BUILTIN_TOOL_LABELS)).toBe(
      'spawn: planner',
    );
    expect(toolLabel('my_tool', BUILTIN_TOOL_LABELS)).toBe('my_tool');
    expect(toolLabel('constructor', BUILTIN_TOOL_LABELS)).toBe('constructor');
  });
});
