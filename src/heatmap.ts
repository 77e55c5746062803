// Attention weights drawn for people: a terminal heatmap in block shades, labelled with the tokens.
import { AttentionError } from './errors.js';
import { formatShape, type Tensor } from './tensor.js';

/** From no attention to full attention. */
const SHADES = [' ', '░', '▒', '▓', '█'];

export interface HeatmapOptions {
  /** Row labels (queries) and column labels (keys); default 0, 1, 2, … */
  rows?: readonly string[];
  cols?: readonly string[];
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
  if (weights.shape.length !== 2) throw new AttentionError('SHAPE_MISMATCH', `heatmap needs weights of shape [lq, lk], got ${formatShape(weights.shape)}`);
  const [lq, lk] = weights.shape;
  const rowLabels = options.rows ?? Array.from({ length: lq }, (_, i) => String(i));
  const colLabels = options.cols ?? Array.from({ length: lk }, (_, j) => String(j));
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
