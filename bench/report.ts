// The benchmark table: per workload and engine, time, throughput, share of peak, ratios, error.
import { cpus } from 'node:os';

export interface Row {
  workload: string;
  suite: string;
  engine: string;
  variant?: string;
  ms: number;
  samples: number;
  flops: number;
  /** Peak GFLOP/s of the build this engine runs on (plain SIMD for the peers). */
  peak?: number;
  maxDiff: number;
  /** The host's steal while the workload's engines were timed (bench/steal.ts). */
  steal?: string;
}

const fmt = (x: number, digits = 3) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toPrecision(digits));

/** The best time of each engine on a workload (over its variants). */
function bestOf(rows: Row[], workload: string, engine: string): number | undefined {
  const times = rows.filter((r) => r.workload === workload && r.engine === engine).map((r) => r.ms);
  return times.length ? Math.min(...times) : undefined;
}

export function table(rows: Row[]): string[][] {
  const header = [
    'work',
    'engine',
    'ms',
    'GFLOP/s',
    '% of peak',
    '× onnxruntime-web',
    '× tfjs-wasm',
    'max abs diff',
    "host's steal (workload)",
  ];
  const body = rows.map((r) => {
    const gflops = r.flops ? r.flops / (r.ms / 1000) / 1e9 : undefined;
    const ratio = (peer: string) => {
      const best = bestOf(rows, r.workload, peer);
      return best === undefined || r.engine === peer ? '' : `${(best / r.ms).toFixed(2)}×`;
    };
    return [
      r.workload,
      r.variant ? `${r.engine} (${r.variant})` : r.engine,
      fmt(r.ms),
      gflops === undefined ? '' : fmt(gflops),
      gflops === undefined || !r.peak ? '' : `${Math.round((100 * gflops) / r.peak)} %`,
      ratio('onnxruntime-web'),
      ratio('tfjs-wasm'),
      Number.isFinite(r.maxDiff) ? r.maxDiff.toExponential(1) : String(r.maxDiff),
      r.steal ?? '',
    ];
  });
  return [header, ...body];
}

/** The middle value of a sample (the upper one of the two middles for an even count). */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** The median of each run's results over `rounds` rounds in which the runs take turns, the first one rotating. */
export async function medianOfTurns(runs: ReadonlyArray<() => Promise<number>>, rounds: number): Promise<number[]> {
  const samples: number[][] = runs.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let t = 0; t < runs.length; t++) {
      const i = (t + r) % runs.length;
      samples[i].push(await runs[i]());
    }
  }
  return samples.map(median);
}

export function toText(t: string[][]): string {
  const widths = t[0].map((_, c) => Math.max(...t.map((row) => row[c].length)));
  return t
    .map((row) => row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '))
    .join('\n');
}

export function toMarkdown(t: string[][]): string {
  const line = (row: string[]) => `| ${row.join(' | ')} |`;
  return [line(t[0]), line(t[0].map((_, c) => (c < 2 ? '---' : '---:'))), ...t.slice(1).map(line)].join('\n');
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu}, ${cpus().length} cores; Node ${process.versions.node} (V8 ${process.versions.v8}); single thread`;
}
