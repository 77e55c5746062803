// How the threads section's work is cut for 2 to 16 threads: units per kernel call and multiply-adds per unit, by the
// pool's own rules (src/runtime/threads/thread-jobs.ts cut, cutGemmPrepacked, MIN_SPLIT_MADDS_SHARED). Arithmetic
// only: what an 8- or 16-core machine would run. `node --import tsx bench/units.ts`.
import {
  cut,
  cutGemmPrepacked,
  MIN_SPLIT_MADDS_SHARED,
  PANEL_COLUMNS,
  UNITS_PER_THREAD,
} from '../src/runtime/threads/thread-jobs.js';
import { toMarkdown } from './report.js';

const THREADS = [2, 4, 8, 16];
/** A kernel call: its kind, independent items, rows per item, multiply-adds in all, and what else each unit does. */
interface Call {
  work: string;
  call: string;
  kind: keyof typeof UNITS_PER_THREAD;
  items: number;
  rows: number;
  madds: number;
  /** A prepacked GEMM's output columns: its units are blocks of rows and columns. */
  columns?: number;
  note?: (threads: number) => string;
  /** What a row other than a kernel call's says for `threads` threads. */
  cell?: (threads: number) => string;
}
const calls: Call[] = [
  { work: 'SDPA 512×64', call: 'fused attention', kind: 'attention', items: 1, rows: 512, madds: 512 * 512 * 128 },
  { work: 'SDPA 2048×64', call: 'fused attention', kind: 'attention', items: 1, rows: 2048, madds: 2048 * 2048 * 128 },
  {
    work: 'MultiHeadAttention 512×768, 12 heads',
    call: 'Q, K, V projection',
    kind: 'gemmPrepacked',
    items: 1,
    rows: 512,
    columns: 2304,
    madds: 512 * 2304 * 768,
  },
  { work: '', call: 'attention, 12 heads', kind: 'attention', items: 12, rows: 512, madds: 12 * 512 * 512 * 128 },
  {
    work: '',
    call: 'output projection',
    kind: 'gemmPrepacked',
    items: 1,
    rows: 512,
    columns: 768,
    madds: 512 * 768 * 768,
  },
  {
    work: 'matmul 1024³',
    call: 'packing B (4 MiB), once, before the GEMM',
    kind: 'pack',
    items: 1,
    rows: 1024,
    madds: 0,
    cell: (t) => {
      const { unitRows, units } = cut('pack', 1, 1024, t, PANEL_COLUMNS);
      return `${units} units of ${unitRows} columns`;
    },
  },
  { work: '', call: 'GEMM on packed B', kind: 'gemmPrepacked', items: 1, rows: 1024, columns: 1024, madds: 1024 ** 3 },
  ...[
    ['Q projection', 768],
    ['K, V projection', 1536],
  ].map(([call, columns], i): Call => ({
    work: i === 0 ? 'decode step, 1024 cached, 12 heads' : '',
    call: call as string,
    kind: 'gemmPrepacked',
    items: 1,
    rows: 1,
    columns: columns as number,
    madds: (columns as number) * 768,
  })),
  { work: '', call: 'attention, 12 heads × 1 query', kind: 'attention', items: 12, rows: 1, madds: 12 * 1025 * 128 },
  { work: '', call: 'output projection', kind: 'gemmPrepacked', items: 1, rows: 1, columns: 768, madds: 768 * 768 },
  {
    work: 'decode step, 1024 cached, 12 heads, 4 kv heads',
    call: 'K, V projection (Q and output as above)',
    kind: 'gemmPrepacked',
    items: 1,
    rows: 1,
    columns: 512,
    madds: 512 * 768,
  },
  {
    work: '',
    call: "attention, 4 kv heads × 3 query rows (a group's heads)",
    kind: 'attention',
    items: 4,
    rows: 3,
    madds: 12 * 1025 * 128,
  },
];

const rows = calls.map((c) => {
  const cells = THREADS.map((t) => {
    if (c.cell) return c.cell(t);
    if (c.madds < MIN_SPLIT_MADDS_SHARED) return 'caller only';
    const blocks = c.kind === 'gemmPrepacked' ? cutGemmPrepacked(c.rows, c.columns!, t) : undefined;
    const { units, chunk } = blocks ? { units: blocks.units, chunk: 1 } : cut(c.kind, c.items, c.rows, t);
    const what = blocks
      ? `units of ${blocks.rows} row${blocks.rows > 1 ? 's' : ''} × ${Math.min(blocks.cols, c.columns!)} columns`
      : 'units';
    const perUnit = c.madds / units / 2 ** 20;
    return `${units} ${what}${chunk > 1 ? ` (claimed ${chunk} at a time)` : ''}, ${perUnit.toFixed(perUnit < 1 ? 2 : 1)}·2^20 each${c.note ? `; ${c.note(t)}` : ''}`;
  });
  return [c.work, c.call, c.madds ? (c.madds / 2 ** 20).toFixed(1) : '', ...cells];
});
console.log(
  toMarkdown([['work', 'kernel call', 'multiply-adds, 2^20', ...THREADS.map((t) => `${t} threads`)], ...rows]),
);
