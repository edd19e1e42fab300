import { describe, expect, it } from 'vitest';
import { formatCostMarked } from '../../src/render/format.js';
import { fmtCost, fmtCostMarked } from './format.js';
import { costText } from './UsageView.js';

describe('fmtCostMarked', () => {
  it('reads as the boxes and the CLI mark an estimated cost, $0 for nothing spent', () => {
    expect(fmtCostMarked(0.42, true)).toBe('~$0.42 est.');
    expect(fmtCostMarked(0.42, undefined)).toBe('$0.42');
    expect(fmtCostMarked(0.0042, true)).toBe(formatCostMarked(0.0042, true));
    expect(fmtCostMarked(123.4, false)).toBe(fmtCost(123.4));
    expect(fmtCostMarked(0, true)).toBe('$0');
  });

  it('is what the Usage view shows for its totals', () => {
    expect(costText({ costUsd: 0.375, estimatedCostUsd: 0.375 })).toBe('~$0.38 est.');
    expect(costText({ costUsd: 1.5, estimatedCostUsd: 0 })).toBe('$1.50');
  });
});
