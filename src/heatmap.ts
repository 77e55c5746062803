// Attention weights drawn for people: a terminal heatmap in block shades, and an SVG one, labelled with tokens.
import { shapeMismatch } from './errors.js';
import { formatShape, type Tensor } from './tensor.js';

/** Checks a [lq, lk] weight matrix and fills in default labels. */
function labelled(what: string, weights: Tensor, options: HeatmapLabels) {
  if (weights.shape.length !== 2) throw shapeMismatch(`${what} needs weights of shape [lq, lk], got ${formatShape(weights.shape)}`);
  const [lq, lk] = weights.shape;
  const rows = options.rows ?? Array.from({ length: lq }, (_, i) => String(i));
  const cols = options.cols ?? Array.from({ length: lk }, (_, j) => String(j));
  return { lq, lk, rows, cols };
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
export function heatmap(weights: Tensor, options: HeatmapOptions = {}): string {
  const { lq, lk, rows: rowLabels, cols: colLabels } = labelled('heatmap', weights, options);
  const cw = options.cellWidth ?? 3;
  const perRow = options.perRow ?? true;
  const labelWidth = Math.max(...rowLabels.map((s) => s.length));
  let globalMax = 0;
  for (const w of weights.data) globalMax = Math.max(globalMax, w);
  const header = ' '.repeat(labelWidth + 2) + colLabels.map((c) => c.slice(0, cw + 1).padEnd(cw + 2)).join('');
  const width = lk * (cw + 2);
  const lines = [header, `${' '.repeat(labelWidth + 1)}┌${'─'.repeat(width)}┐`];
  for (let i = 0; i < lq; i++) {
    const row = weights.data.subarray(i * lk, (i + 1) * lk);
    const top = perRow ? Math.max(...row) : globalMax;
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
export function heatmapSvg(weights: Tensor, options: SvgHeatmapOptions = {}): string {
  const { lq, lk, rows, cols } = labelled('heatmapSvg', weights, options);
  const c = options.cell ?? 28;
  const left = 8 + 7 * Math.max(1, ...rows.map((r) => r.length));
  const top = (options.title ? 22 : 0) + 8 + 7 * Math.max(1, ...cols.map((r) => r.length));
  const parts: string[] = [];
  if (options.title) parts.push(`<text x="0" y="14" font-weight="bold">${escapeXml(options.title)}</text>`);
  cols.forEach((t, j) => parts.push(`<text x="${left + j * c + c / 2}" y="${top - 6}" transform="rotate(-60 ${left + j * c + c / 2} ${top - 6})">${escapeXml(t)}</text>`));
  for (let i = 0; i < lq; i++) {
    parts.push(`<text x="${left - 6}" y="${top + i * c + c * 0.65}" text-anchor="end">${escapeXml(rows[i])}</text>`);
    const row = weights.data.subarray(i * lk, (i + 1) * lk);
    const peak = Math.max(...row);
    row.forEach((w, j) => {
      const opacity = peak > 0 ? w / peak : 0;
      parts.push(`<rect class="cell" x="${left + j * c}" y="${top + i * c}" width="${c - 2}" height="${c - 2}" fill="#1f4e9c" fill-opacity="${opacity.toFixed(3)}" stroke="#ccd" data-weight="${w}"><title>${escapeXml(rows[i])} → ${escapeXml(cols[j])}: ${w.toFixed(3)}</title></rect>`);
    });
  }
  const width = left + lk * c + 4;
  const height = top + lq * c + 4;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">${parts.join('')}</svg>`;
}
