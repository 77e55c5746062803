// Attention weights drawn for people: a terminal heatmap in block shades, and an SVG one, labelled with tokens.
// Its own entry, `wasm-attention/heatmap`, so pages that only compute do not carry it. It needs no engine, and
// reads its arguments as every entry does (src/runtime/snapshot.ts), and takes AttentionError from the main entry.
import { badArgument as bad, shapeMismatch } from './runtime/errors.js';
import { describe, formatShape, readOptions, readTensor } from './runtime/snapshot.js';
import type { Tensor } from './ops/tensor.js';

/** Rows or columns one map may have: past this a drawing is no longer something to look at. */
const MAX_SIDE = 2 ** 20;
/** Characters one drawing may have (JavaScript strings stop near 2^29). */
const MAX_CHARS = 2 ** 27;

/** C0 and C1 control characters (ANSI escapes among them) in a label would drive the terminal: shown as '�'. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const printable = (label: string) => label.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd');

/** Checks a [lq, lk] weight matrix, its options and labels (read once, own keys only); fills in default labels. */
function labelled(what: string, weights: Tensor, options: unknown, accepted: readonly string[]) {
  const w = readTensor(`${what}: weights`, weights);
  const [lq, lk] = w.shape;
  if (w.shape.length !== 2 || lq > MAX_SIDE || lk > MAX_SIDE) {
    throw shapeMismatch(
      `${what}: weights must be [lq, lk] (each at most ${MAX_SIDE}), got shape ${formatShape(w.shape)}`,
    );
  }
  const opts = readOptions(`${what}: options`, options, accepted);
  const labels = (key: 'rows' | 'cols', n: number): readonly string[] => {
    const given = opts[key];
    if (given === undefined) return Array.from({ length: n }, (_, i) => String(i));
    const copy =
      Array.isArray(given) && given.length === n
        ? Array.from({ length: n }, (_, i) => (given as unknown[])[i])
        : undefined;
    if (!copy || copy.some((l) => typeof l !== 'string')) {
      throw bad(
        `${what}: options.${key} must be ${n} strings, got ${Array.isArray(given) ? `${given.length} items` : describe(given)}`,
      );
    }
    return (copy as string[]).map(printable);
  };
  return { data: w.data, lq, lk, rows: labels('rows', lq), cols: labels('cols', lk), opts };
}

/** A numeric option: `integer` or any finite value, in [min, max]. */
function sizeOption(
  what: string,
  opts: Readonly<Record<string, unknown>>,
  key: string,
  fallback: number,
  integer: boolean,
  min: number,
  max: number,
): number {
  const v = opts[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(integer ? Number.isSafeInteger(v) : Number.isFinite(v)) || v < min || v > max) {
    throw bad(
      `${what}: options.${key} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${describe(v)}`,
    );
  }
  return v;
}

/** Throws unless a drawing of about `chars` characters can be built. */
function checkDrawable(what: string, chars: number): void {
  if (chars > MAX_CHARS)
    throw bad(
      `${what}: the drawing would take about ${chars} characters, past the ${MAX_CHARS} it may have; draw a slice of the weights`,
    );
}

/** The largest weight of row i (a loop: spreading a long row into Math.max overflows the stack). */
function rowPeak(data: Float32Array, i: number, lk: number): number {
  let peak = 0;
  for (let j = i * lk; j < (i + 1) * lk; j++) peak = Math.max(peak, data[j]);
  return peak;
}

/** From no attention to full attention. */
const SHADES = [' ', '░', '▒', '▓', '█'];

/** options.perRow, read: shade by weight (false, the default) or by share of the row's largest (true). */
function perRowOption(what: string, opts: Readonly<Record<string, unknown>>): boolean {
  const perRow = opts.perRow ?? false;
  if (typeof perRow !== 'boolean') throw bad(`${what}: options.perRow must be a boolean, got ${describe(perRow)}`);
  return perRow;
}

/** What a shade or an opacity measures. */
const scaleName = (perRow: boolean) => (perRow ? "share of the row's largest" : 'attention weight');

export interface HeatmapLabels {
  /** Row labels (queries) and column labels (keys); default 0, 1, 2, … */
  rows?: readonly string[];
  cols?: readonly string[];
  /**
   * Shade by each weight's share of its row's largest (true), so every row shows its own peak however flat it is;
   * by default (false) by the weight itself, on one 0–1 scale for the whole map.
   */
  perRow?: boolean;
}

export interface HeatmapOptions extends HeatmapLabels {
  /** Characters per cell (default 3). */
  cellWidth?: number;
}

/**
 * A `[lq, lk]` weight matrix as text: one row per query (down), one cell per key (across), shaded ░▒▓█ by weight
 * on a 0–1 scale (a weight of exactly 0, masked, is blank), boxed like the seed document's picture, with the scale
 * under it.
 */
export function heatmap(weights: Tensor, options?: HeatmapOptions): string {
  const {
    data,
    lq,
    lk,
    rows: rowLabels,
    cols: colLabels,
    opts,
  } = labelled('heatmap', weights, options, ['rows', 'cols', 'cellWidth', 'perRow']);
  const cw = sizeOption('heatmap', opts, 'cellWidth', 3, true, 1, 64);
  const perRow = perRowOption('heatmap', opts);
  const labelWidth = rowLabels.reduce((m, s) => Math.max(m, s.length), 0);
  checkDrawable('heatmap', (lq + 5) * (labelWidth + 4 + lk * (cw + 2)) + 200);
  const indent = ' '.repeat(labelWidth + 2);
  const header = indent + colLabels.map((c) => c.slice(0, cw + 1).padEnd(cw + 2)).join('');
  const width = lk * (cw + 2);
  const lines = [`${indent}keys →  (queries ↓)`, header, `${' '.repeat(labelWidth + 1)}┌${'─'.repeat(width)}┐`];
  for (let i = 0; i < lq; i++) {
    const row = data.subarray(i * lk, (i + 1) * lk);
    const top = perRow ? rowPeak(data, i, lk) : 1;
    const cells = Array.from(row, (w) => {
      const level =
        w > 0 && top > 0 ? Math.min(SHADES.length - 1, Math.max(1, Math.round((w / top) * (SHADES.length - 1)))) : 0;
      return ` ${SHADES[level].repeat(cw)} `;
    });
    lines.push(`${rowLabels[i].padEnd(labelWidth)} │${cells.join('')}│`);
  }
  lines.push(`${' '.repeat(labelWidth + 1)}└${'─'.repeat(width)}┘`);
  // Each shade covers the values that round to its level: ░ (0, .375), ▒ [.375, .625), ▓ [.625, .875), █ from .875.
  lines.push(`${indent}${scaleName(perRow)}, blank 0:`, `${indent}░ <.375 ▒ <.625 ▓ <.875 █ ≤1`);
  return lines.join('\n');
}

export interface SvgHeatmapOptions extends HeatmapLabels {
  /** Side of one cell in pixels (default 28). */
  cell?: number;
  /** Title drawn above the map. */
  title?: string;
}

const escapeXml = (s: string) =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

/** Fill and outline of a cell: darker for more attention. */
const FILL = 'fill="#1f4e9c" stroke="#ccd"';

/**
 * A `[lq, lk]` weight matrix as an SVG heatmap: one `<rect class="cell">` per weight, darker for more attention
 * (opacity = the weight, on one 0–1 scale; with perRow, its share of the row's largest), with `data-weight` holding
 * the value and `data-row`, `data-col` its place; labels on both axes (queries down, keys across) and the scale under
 * the map.
 */
export function heatmapSvg(weights: Tensor, options?: SvgHeatmapOptions): string {
  const { data, lq, lk, rows, cols, opts } = labelled('heatmapSvg', weights, options, [
    'rows',
    'cols',
    'cell',
    'title',
    'perRow',
  ]);
  const c = sizeOption('heatmapSvg', opts, 'cell', 28, false, 4, 4096);
  const perRow = perRowOption('heatmapSvg', opts);
  if (opts.title !== undefined && typeof opts.title !== 'string')
    throw bad(`heatmapSvg: options.title must be a string, got ${describe(opts.title)}`);
  const title = printable(opts.title ?? '');
  const chars = (labels: readonly string[]) => labels.reduce((n, l) => n + l.length, 0);
  // Each cell's title repeats its row and column labels, escaped (up to 6 characters each).
  checkDrawable('heatmapSvg', lq * lk * 260 + 6 * (lk * chars(rows) + lq * chars(cols)) + 200 * (lq + lk + 10));
  const longest = (labels: readonly string[]) => labels.reduce((m, s) => Math.max(m, s.length), 1);
  // Room for the axis names: "queries ↓" left of the row labels' column, "keys →" above the column labels.
  const left = 8 + 7 * Math.max(longest(rows), 9);
  const top = (title ? 22 : 0) + 26 + 7 * longest(cols);
  const parts: string[] = [];
  if (title) parts.push(`<text x="0" y="14" font-weight="bold">${escapeXml(title)}</text>`);
  parts.push(
    `<text x="${left}" y="${(title ? 22 : 0) + 14}" font-style="italic">keys →</text>`,
    `<text x="${left - 6}" y="${top - 6}" text-anchor="end" font-style="italic">queries ↓</text>`,
  );
  cols.forEach((t, j) =>
    parts.push(
      `<text x="${left + j * c + c / 2}" y="${top - 6}" transform="rotate(-60 ${left + j * c + c / 2} ${top - 6})">${escapeXml(t)}</text>`,
    ),
  );
  for (let i = 0; i < lq; i++) {
    parts.push(`<text x="${left - 6}" y="${top + i * c + c * 0.65}" text-anchor="end">${escapeXml(rows[i])}</text>`);
    const row = data.subarray(i * lk, (i + 1) * lk);
    const scale = perRow ? rowPeak(data, i, lk) : 1;
    row.forEach((w, j) => {
      const opacity = scale > 0 ? Math.min(1, Math.max(0, w / scale)) : 0;
      parts.push(
        `<rect class="cell" x="${left + j * c}" y="${top + i * c}" width="${c - 2}" height="${c - 2}" ${FILL} fill-opacity="${opacity.toFixed(3)}" data-row="${i}" data-col="${j}" data-weight="${w}"><title>${escapeXml(rows[i])} → ${escapeXml(cols[j])}: ${w.toFixed(3)}</title></rect>`,
      );
    });
  }
  // The scale: five swatches from 0 to 1 and what they measure.
  const legendY = top + lq * c + 10;
  [0, 0.25, 0.5, 0.75, 1].forEach((v, k) => {
    parts.push(
      `<rect class="legend" x="${left + k * 48}" y="${legendY}" width="14" height="14" ${FILL} fill-opacity="${v}"/><text x="${left + k * 48 + 18}" y="${legendY + 11}">${v}</text>`,
    );
  });
  parts.push(`<text x="${left}" y="${legendY + 32}">${scaleName(perRow)}</text>`);
  const width = Math.max(left + lk * c + 4, left + 250);
  const height = legendY + 40;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">${parts.join('')}</svg>`;
}
