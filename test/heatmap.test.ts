import { describe, expect, it } from 'vitest';
import { heatmap } from '../src/index.js';

describe('heatmap', () => {
  it('shades each cell by its weight relative to the row peak, blank where masked, labelled', () => {
    const w = { data: Float32Array.from([1, 0, 0, 0.5, 0.5, 0, 0.1, 0.3, 0.6]), shape: [3, 3] };
    const text = heatmap(w, { rows: ['The', 'cat', 'sat'], cols: ['The', 'cat', 'sat'], cellWidth: 2 });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^\s+The\s+cat\s+sat/);
    expect(lines[2]).toBe('The │ ██         │');
    expect(lines[3]).toBe('cat │ ██  ██     │');
    expect(lines[4]).toBe('sat │ ░░  ▒▒  ██ │');
    expect(lines[1]).toBe('    ┌────────────┐');
    expect(lines[5]).toBe('    └────────────┘');
  });
});
