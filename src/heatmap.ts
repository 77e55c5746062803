// Attention weights drawn for people: a terminal heatmap in block shades, and an SVG one, labelled with tokens.
// Its own entry, `wasm-attention/heatmap`, so pages that only compute do not carry it. It needs no engine, and
// reads its arguments as every entry does (src/snapshot.ts), and takes AttentionError from the main entry.
import { badArgument as bad, shapeMismatch } from './errors.js';
import { describe, formatShape, readOptions, readTensor } from './snapshot.js';
import type { Tensor } from './tensor.js';

/** Rows or columns one map may have: past this a drawing is no longer something to look at. */
const MAX_SIDE = 2 ** 20;
/** Characters one drawing may have (JavaScript strings stop near 2^29). */
const MAX_CHARS = 2 ** 27;

/** C0 and C1 control characters (ANSI escapes among them) in a label would drive the terminal: shown as '�'. */
const printable = (label: string) => label.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd');

/** Checks a [lq, lk] weight matrix, its options and labels (read once, own keys only); fills in default labels. */
function labelled(what: string, weights: Tensor, options: unknown, accepted: readonly string[]) {
  const w = readTensor(`${what}: weights`, weights);
  const [lq, lk] = w.shape;
  if (w.shape.length !== 2 || lq > MAX_SIDE || lk > MAX_SIDE) {
    throw shapeMismatch(`${what}: weights must be [lq, lk] (each at most ${MAX_SIDE}), got shape ${formatShape(w.shape)}`);
  }
  const opts = readOptions(`${what}: options`, options, accepted);
  const labels = (key: 'rows' | 'cols', n: number): readonly string[] => {
    const given = opts[key];
    if (given === undefined) return Array.from({ length: n }, (_, i) => String(i));
    const copy = Array.isArray(given) && given.length === n ? Array.from({ length: n }, (_, i) => (given as unknown[])[i]) : undefined;
    if (!copy || copy.some((l) => typeof l !== 'string')) {
      throw bad(`${what}: options.${key} must be ${n} strings, got ${Array.isArray(given) ? `${given.length} items` : describe(given)}`);
    }
    return (copy as string[]).map(printable);
  };
  return { data: w.data, lq, lk, rows: labels('rows', lq), cols: labels('cols', lk), opts };
}

/** A numeric option: `integer` or any finite value, in [min, max]. */
function sizeOption(what: string, opts: Readonly<Record<string, unknown>>, key: string, fallback: number, integer: boolean, min: number, max: number): number {
  const v = opts[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(integer ? Number.isSafeInteger(v) : Number.isFinite(v)) || v < min || v > max) {
    throw bad(`${what}: options.${key} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${describe(v)}`);
  }
  return v;
}

/** Throws unless a drawing of about `chars` characters can be built. */
function checkDrawable(what: string, chars: number): void {
  if (chars > MAX_CHARS) throw bad(`${what}: the drawing would take about ${chars} characters, past the ${MAX_CHARS} it may have; draw a slice of the weights`);
}

/** The largest weight of row i (a loop: spreading a long row into Math.max overflows the stack). */
function rowPeak(data: Float32Array, i: number, lk: number): number {
  let peak = 0;
  for (let j = i * lk; j < (i + 1) * lk; j++) peak = Math.max(peak, data[j]);
  return peak;
}

/** From no attention to full attention. */
const SHADES = [' ', '░', '▒', '▓', '█'];

export interface HeatmapLabels {
  /** Row labels (queries) and column labels (keys); default 0, 1, 2, … */
  rows?: readonly string[];
  cols?: readonly string[];
}

export interface HeatmapOptions extends HeatmapLabels {
  /** Characters per cell (default 3). */
  cellWidth?: number;
  /** Shade relative to each row's largest weight (default true), so every row shows its own peak. */
  perRow?: boolean;
}

/**
 * A `[lq, lk]` weight matrix as text: one row per query, one cell per key, shaded ░▒▓█ by weight
 * (a masked weight of exactly 0 is blank), boxed like the seed document's picture.
 */
export function heatmap(weights: Tensor, options?: HeatmapOptions): string {
  const { data, lq, lk, rows: rowLabels, cols: colLabels, opts } = labelled('heatmap', weights, options, ['rows', 'cols', 'cellWidth', 'perRow']);
  const cw = sizeOption('heatmap', opts, 'cellWidth', 3, true, 1, 64);
  const perRow = opts.perRow ?? true;
  if (typeof perRow !== 'boolean') throw bad(`heatmap: options.perRow must be a boolean, got ${describe(perRow)}`);
  const labelWidth = rowLabels.reduce((m, s) => Math.max(m, s.length), 0);
  checkDrawable('heatmap', (lq + 3) * (labelWidth + 4 + lk * (cw + 2)));
  const globalMax = rowPeak(data, 0, data.length);
  const header = ' '.repeat(labelWidth + 2) + colLabels.map((c) => c.slice(0, cw + 1).padEnd(cw + 2)).join('');
  const width = lk * (cw + 2);
  const lines = [header, `${' '.repeat(labelWidth + 1)}┌${'─'.repeat(width)}┐`];
  for (let i = 0; i < lq; i++) {
    const row = data.subarray(i * lk, (i + 1) * lk);
    const top = perRow ? rowPeak(data, i, lk) : globalMax;
    const cells = Array.from(row, (w) => {
      const level = w > 0 && top > 0 ? Math.max(1, Math.round((w / top) * (SHADES.length - 1))) : 0;
      return ` ${SHADES[level].repeat(cw)} `;
    });
    lines.push(`${rowLabels[i].padEnd(labelWidth)} │${cells.join('')}│`);
  }
  lines.push(`${' '.repeat(labelWidth + 1)}└${'─'.repeat(width)}┘`);
  return lines.join('\n');
}

export interface SvgHeatmapOptions extends HeatmapLabels {
  /** Side of one cell in pixels (default 28). */
  cell?: number;
  /** Title drawn above the map. */
  title?: string;
}

const escapeXml = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

/**
 * A `[lq, lk]` weight matrix as an SVG heatmap: one `<rect class="cell">` per weight, darker for more attention
 * (opacity = weight / the row's largest), with `data-weight` holding the value; labels on both axes.
 */
export function heatmapSvg(weights: Tensor, options?: SvgHeatmapOptions): string {
  const { data, lq, lk, rows, cols, opts } = labelled('heatmapSvg', weights, options, ['rows', 'cols', 'cell', 'title']);
  const c = sizeOption('heatmapSvg', opts, 'cell', 28, false, 4, 4096);
  if (opts.title !== undefined && typeof opts.title !== 'string') throw bad(`heatmapSvg: options.title must be a string, got ${describe(opts.title)}`);
  const title = printable(opts.title ?? '');
  const chars = (labels: readonly string[]) => labels.reduce((n, l) => n + l.length, 0);
  // Each cell's title repeats its row and column labels, escaped (up to 6 characters each).
  checkDrawable('heatmapSvg', lq * lk * 260 + 6 * (lk * chars(rows) + lq * chars(cols)) + 200 * (lq + lk + 1));
  const longest = (labels: readonly string[]) => labels.reduce((m, s) => Math.max(m, s.length), 1);
  const left = 8 + 7 * longest(rows);
  const top = (title ? 22 : 0) + 8 + 7 * longest(cols);
  const parts: string[] = [];
  if (title) parts.push(`<text x="0" y="14" font-weight="bold">${escapeXml(title)}</text>`);
  cols.forEach((t, j) => parts.push(`<text x="${left + j * c + c / 2}" y="${top - 6}" transform="rotate(-60 ${left + j * c + c / 2} ${top - 6})">${escapeXml(t)}</text>`));
  for (let i = 0; i < lq; i++) {
    parts.push(`<text x="${left - 6}" y="${top + i * c + c * 0.65}" text-anchor="end">${escapeXml(rows[i])}</text>`);
    const row = data.subarray(i * lk, (i + 1) * lk);
    const peak = rowPeak(data, i, lk);
    row.forEach((w, j) => {
      const opacity = peak > 0 ? w / peak : 0;
      parts.push(`<rect class="cell" x="${left + j * c}" y="${top + i * c}" width="${c - 2}" height="${c - 2}" fill="#1f4e9c" fill-opacity="${opacity.toFixed(3)}" stroke="#ccd" data-weight="${w}"><title>${escapeXml(rows[i])} → ${escapeXml(cols[j])}: ${w.toFixed(3)}</title></rect>`);
    });
  }
  const width = left + lk * c + 4;
  const height = top + lq * c + 4;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">${parts.join('')}</svg>`;
}
