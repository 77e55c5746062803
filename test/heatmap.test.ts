import { describe, expect, it } from 'vitest';
import { AttentionError } from '../src/runtime/errors.js';
import { heatmap, heatmapSvg } from '../src/heatmap.js';

const w3 = { data: Float32Array.from([1, 0, 0, 0.5, 0.5, 0, 0.1, 0.3, 0.6]), shape: [3, 3] };

describe('heatmap', () => {
  it('shades each cell by its weight on one 0–1 scale, blank where masked, labelled, axes named, the scale under it', () => {
    const lines = heatmap(w3, { rows: ['The', 'cat', 'sat'], cols: ['The', 'cat', 'sat'], cellWidth: 2 }).split('\n');
    expect(lines[0]).toBe('     keys →  (queries ↓)');
    expect(lines[1]).toMatch(/^\s+The\s+cat\s+sat/);
    expect(lines[2]).toBe('    ┌────────────┐');
    expect(lines[3]).toBe('The │ ██         │');
    expect(lines[4]).toBe('cat │ ▒▒  ▒▒     │');
    expect(lines[5]).toBe('sat │ ░░  ░░  ▒▒ │');
    expect(lines[6]).toBe('    └────────────┘');
    expect(lines.slice(7)).toEqual(['     attention weight, blank 0:', '     ░ <.375 ▒ <.625 ▓ <.875 █ ≤1']);
  });

  it('puts each shade where its band of the scale says, and shades by share of the row peak with perRow', () => {
    const bands = { data: Float32Array.from([0.01, 0.374, 0.375, 0.624, 0.625, 0.874, 0.875, 1]), shape: [1, 8] };
    expect(heatmap(bands, { cellWidth: 1 }).split('\n')[3]).toBe('0 │ ░  ░  ▒  ▒  ▓  ▓  █  █ │');
    const lines = heatmap(w3, { cellWidth: 2, perRow: true }).split('\n');
    expect(lines.slice(3, 6)).toEqual(['0 │ ██         │', '1 │ ██  ██     │', '2 │ ░░  ▒▒  ██ │']);
    expect(lines[7]).toBe("   share of the row's largest, blank 0:");
  });

  it('draws rows far longer than a spread argument list allows', () => {
    const lk = 200_000;
    const data = new Float32Array(lk).fill(1 / lk);
    expect(heatmapSvg({ data, shape: [1, lk] }, { cell: 4 }).match(/class="cell"/g)).toHaveLength(lk);
    expect(heatmap({ data, shape: [1, lk] }, { cellWidth: 1 }).split('\n')).toHaveLength(7);
  });
});

describe('heatmapSvg', () => {
  it('draws one cell per weight, opacity the weight, the weight in data-weight, labels escaped, axes and scale', () => {
    const svg = heatmapSvg(w3, { rows: ['<a>', 'b&c', '"d"'], cols: ['x', 'y', 'z'], title: "it's" });
    const cells = [...svg.matchAll(/<rect class="cell"[^>]*fill-opacity="([\d.]+)"[^>]*data-weight="([^"]+)"/g)];
    expect(cells.map((c) => Number(c[2]))).toEqual(Array.from(w3.data));
    expect(cells.map((c) => Number(c[1]))).toEqual(Array.from(w3.data, (w) => Number(w.toFixed(3))));
    expect(svg).toContain('&lt;a&gt;');
    expect(svg).toContain('b&amp;c');
    expect(svg).toContain('&quot;d&quot;');
    expect(svg).toContain('it&apos;s');
    expect(svg).not.toMatch(/<a>|b&c/);
    expect(svg).toMatch(/>keys →</);
    expect(svg).toMatch(/>queries ↓</);
    expect([...svg.matchAll(/<rect class="legend"[^>]*fill-opacity="([\d.]+)"/g)].map((m) => Number(m[1]))).toEqual([
      0, 0.25, 0.5, 0.75, 1,
    ]);
    expect(svg).toMatch(/>attention weight</);
  });

  it('with perRow, opacity is the share of the row peak', () => {
    const svg = heatmapSvg(w3, { perRow: true });
    expect([...svg.matchAll(/<rect class="cell"[^>]*fill-opacity="([\d.]+)"/g)].map((c) => Number(c[1]))).toEqual([
      1, 0, 0, 1, 1, 0, 0.167, 0.5, 1,
    ]);
    expect(svg).toMatch(/>share of the row's largest</);
  });
});

describe('bad input', () => {
  const cases: Array<[string, () => unknown, string, RegExp]> = [
    [
      'a Float32Array',
      () => heatmapSvg(w3.data as never),
      'BAD_ARGUMENT',
      /heatmapSvg: weights must be a Tensor .* got Float32Array\(9\)/,
    ],
    ['null', () => heatmap(null as never), 'BAD_ARGUMENT', /heatmap: weights must be a Tensor .* got null/],
    [
      'rank 1',
      () => heatmap({ data: new Float32Array(3), shape: [3] }),
      'SHAPE_MISMATCH',
      /weights must be \[lq, lk\] .*got shape \[3\]/,
    ],
    [
      'an empty map a trillion columns wide',
      () => heatmap({ data: new Float32Array(0), shape: [0, 2 ** 40] }),
      'BAD_ARGUMENT',
      /weights.shape\[1\] is 1099511627776, past 2\^31 − 1/,
    ],
    [
      'data shorter than the shape',
      () => heatmapSvg({ data: new Float32Array(5), shape: [2, 3] }),
      'SHAPE_MISMATCH',
      /weights.data has 5 elements but shape \[2, 3\] needs 6/,
    ],
    [
      'too few row labels',
      () => heatmap(w3, { rows: ['a', 'b'] }),
      'BAD_ARGUMENT',
      /options\.rows must be 3 strings, got 2 items/,
    ],
    [
      'labels that are not strings',
      () => heatmapSvg(w3, { cols: [1, 2, 3] as never }),
      'BAD_ARGUMENT',
      /options\.cols must be 3 strings/,
    ],
    [
      'options that are not an object',
      () => heatmap(w3, 7 as never),
      'BAD_ARGUMENT',
      /heatmap: options must be an options object, got 7/,
    ],
    [
      'a negative cell width',
      () => heatmap(w3, { cellWidth: -1 }),
      'BAD_ARGUMENT',
      /options\.cellWidth must be an integer from 1 to 64, got -1/,
    ],
    [
      'a NaN cell size',
      () => heatmapSvg(w3, { cell: NaN }),
      'BAD_ARGUMENT',
      /options\.cell must be a number from 4 to 4096, got NaN/,
    ],
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
