import { describe, expect, it } from 'vitest';
import { AttentionError } from '../src/errors.js';
import { heatmap, heatmapSvg } from '../src/heatmap.js';

const w3 = { data: Float32Array.from([1, 0, 0, 0.5, 0.5, 0, 0.1, 0.3, 0.6]), shape: [3, 3] };

describe('heatmap', () => {
  it('shades each cell by its weight relative to the row peak, blank where masked, labelled', () => {
    const text = heatmap(w3, { rows: ['The', 'cat', 'sat'], cols: ['The', 'cat', 'sat'], cellWidth: 2 });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^\s+The\s+cat\s+sat/);
    expect(lines[2]).toBe('The │ ██         │');
    expect(lines[3]).toBe('cat │ ██  ██     │');
    expect(lines[4]).toBe('sat │ ░░  ▒▒  ██ │');
    expect(lines[1]).toBe('    ┌────────────┐');
    expect(lines[5]).toBe('    └────────────┘');
  });

  it('draws rows far longer than a spread argument list allows', () => {
    const lk = 200_000;
    const data = new Float32Array(lk).fill(1 / lk);
    expect(heatmapSvg({ data, shape: [1, lk] }, { cell: 4 }).match(/class="cell"/g)).toHaveLength(lk);
    expect(heatmap({ data, shape: [1, lk] }, { cellWidth: 1 }).split('\n')).toHaveLength(4);
  });
});

describe('heatmapSvg', () => {
  it('draws one cell per weight, opacity relative to the row peak, the weight in data-weight, labels escaped', () => {
    const svg = heatmapSvg(w3, { rows: ['<a>', 'b&c', '"d"'], cols: ['x', 'y', 'z'], title: "it's" });
    const cells = [...svg.matchAll(/<rect class="cell"[^>]*fill-opacity="([\d.]+)"[^>]*data-weight="([^"]+)"/g)];
    expect(cells.map((c) => Number(c[2]))).toEqual(Array.from(w3.data));
    expect(cells.map((c) => Number(c[1]))).toEqual([1, 0, 0, 1, 1, 0, 0.167, 0.5, 1]);
    expect(svg).toContain('&lt;a&gt;');
    expect(svg).toContain('b&amp;c');
    expect(svg).toContain('&quot;d&quot;');
    expect(svg).toContain('it&apos;s');
    expect(svg).not.toMatch(/<a>|b&c/);
  });
});

describe('bad input', () => {
  const cases: Array<[string, () => unknown, string, RegExp]> = [
    ['a Float32Array', () => heatmapSvg(w3.data as never), 'BAD_ARGUMENT', /heatmapSvg: weights must be a Tensor .* got Float32Array\(9\)/],
    ['null', () => heatmap(null as never), 'BAD_ARGUMENT', /heatmap: weights must be a Tensor .* got null/],
    ['rank 1', () => heatmap({ data: new Float32Array(3), shape: [3] }), 'SHAPE_MISMATCH', /weights must be \[lq, lk\] .*got shape \[3\]/],
    ['an empty map a trillion columns wide', () => heatmap({ data: new Float32Array(0), shape: [0, 2 ** 40] }), 'BAD_ARGUMENT', /weights.shape\[1\] is 1099511627776, past 2\^31 − 1/],
    ['data shorter than the shape', () => heatmapSvg({ data: new Float32Array(5), shape: [2, 3] }), 'SHAPE_MISMATCH', /weights.data has 5 elements but shape \[2, 3\] needs 6/],
    ['too few row labels', () => heatmap(w3, { rows: ['a', 'b'] }), 'BAD_ARGUMENT', /options\.rows must be 3 strings, got 2 items/],
    ['labels that are not strings', () => heatmapSvg(w3, { cols: [1, 2, 3] as never }), 'BAD_ARGUMENT', /options\.cols must be 3 strings/],
    ['options that are not an object', () => heatmap(w3, 7 as never), 'BAD_ARGUMENT', /heatmap: options must be an options object, got 7/],
    ['a negative cell width', () => heatmap(w3, { cellWidth: -1 }), 'BAD_ARGUMENT', /options\.cellWidth must be an integer from 1 to 64, got -1/],
    ['a NaN cell size', () => heatmapSvg(w3, { cell: NaN }), 'BAD_ARGUMENT', /options\.cell must be a number from 4 to 4096, got NaN/],
  ];
  it.each(cases)('%s gives a clear AttentionError', (_, call, code, message) => {
    expect(call).toThrow(AttentionError);
    try {
      call();
    } catch (e) {
      expect((e as AttentionError).code).toBe(code);
      expect((e as Error).message).toMatch(message);
    }
  });
});
