// `npm start`: the seed document, run — which build, the seed example, the heatmap of its sentence, a quick timing.
import { getEngine, init } from './ops/engines.js';
import type { Engine } from './runtime/engine.js';
import { heatmap } from './heatmap.js';
import { scaledDotProductAttention } from './ops/ops.js';
import { embedTokens } from './embeddings.js';
import { mulberry32, normal } from './modules/random.js';
import { refAttention, refSelfAttention } from './reference.js';
import { MultiHeadAttention } from './modules/multi-head.js';
import { initialSelfAttentionWeights, SelfAttention } from './modules/self-attention.js';
import type { Tensor } from './ops/tensor.js';

const SENTENCE = 'The cat sat on the mat';
const DEMO_EMBED = 32;
const DEMO_SEED = 5;

function randn(seed: number, shape: number[]): Tensor {
  return {
    data: normal(
      mulberry32(seed),
      shape.reduce((a, b) => a * b, 1),
    ),
    shape,
  };
}

/** Median milliseconds per call, running for at least `budgetMs` after one warm-up. */
function medianMs(fn: () => unknown, budgetMs = 300, maxRuns = 1000): number {
  fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < maxRuns && (times.length < 5 || performance.now() - start < budgetMs)) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

/** The demo fits a terminal of this many columns. */
const COLUMNS = 80;

function section(title: string): void {
  console.log(`\n── ${title} ${'─'.repeat(Math.max(0, COLUMNS - 4 - title.length))}`);
}

function describeBuild(engine: Engine): string {
  const { build, relaxedSimdSupported } = engine.info;
  if (build === 'relaxed-simd') return 'relaxed-simd (f32x4.relaxed_madd: fused multiply-add)';
  return relaxedSimdSupported
    ? 'simd (plain SIMD128, chosen by request)'
    : [
        'simd (plain SIMD128: this Node has no relaxed SIMD).',
        'Node 22+ has it; on Node 20 run, for the relaxed-simd build,',
        '  node --experimental-wasm-relaxed-simd node_modules/.bin/wasm-attention demo',
        '  (in this repository: node --experimental-wasm-relaxed-simd dist/cli.js demo)',
      ].join('\n');
}

function printSeedExample(): void {
  section('The seed example: SelfAttention(64), x = randn(2, 10, 64)');
  const attention = new SelfAttention(64);
  try {
    const { output, weights } = attention.forward(randn(1, [2, 10, 64]));
    console.log(`Output shape: [${output.shape.join(', ')}]`);
    console.log(`Attention weights: [${weights!.shape.join(', ')}]`);
    const row = Array.from(weights!.data.subarray(0, 10), (w) => w.toFixed(3)).join(' ');
    console.log(`weights[0, 0, :] = ${row}`);
    console.log('(each row sums to 1)');
  } finally {
    attention.dispose();
  }
}

function printHeatmaps(): void {
  const tokens = SENTENCE.split(' ');
  const x = embedTokens(tokens, DEMO_EMBED);
  // Keys share the queries' projection, so a score is a similarity: each token attends to itself and its look-alikes.
  const sd = initialSelfAttentionWeights(DEMO_EMBED, DEMO_SEED);
  sd['W_k.weight'] = sd['W_q.weight'];
  sd['W_k.bias'] = sd['W_q.bias'];
  const attention = SelfAttention.fromStateDict(sd);
  try {
    for (const causal of [false, true]) {
      section(`Attention heatmap of "${SENTENCE}"${causal ? ', causal' : ''}`);
      if (causal) console.log('Causal: each token sees only itself and the tokens before it.');
      const { weights } = attention.forward(x, { causal });
      console.log(heatmap(weights!, { rows: tokens, cols: tokens }));
      if (!causal) {
        const i = tokens.indexOf('sat');
        const row = weights!.data.subarray(i * tokens.length, (i + 1) * tokens.length);
        console.log(`Token:  ${tokens.map((t) => t.padStart(5)).join(' ')}`);
        console.log(`"sat":  ${Array.from(row, (w) => w.toFixed(2).padStart(5)).join(' ')}`);
      }
    }
    console.log(`SelfAttention(${DEMO_EMBED}), untrained: seeded weights (seed ${DEMO_SEED}) with W_k tied to W_q,`);
    console.log('so each token attends most to itself and its look-alikes, over deterministic');
    console.log('token embeddings ("The" and "the" share one).');
  } finally {
    attention.dispose();
  }
}

/** Per-head heatmaps: the seed's "Next: Multi-Head Attention", each head its own pattern. */
function printHeadHeatmaps(): void {
  const tokens = SENTENCE.split(' ');
  const heads = 4;
  const x = embedTokens(tokens, DEMO_EMBED);
  const mha = new MultiHeadAttention(DEMO_EMBED, heads, { seed: DEMO_SEED });
  try {
    const { weights } = mha.forward(x, x, x, { averageWeights: false });
    const n = tokens.length;
    const maps = Array.from({ length: heads }, (_, h) =>
      heatmap(
        { data: weights!.data.subarray(h * n * n, (h + 1) * n * n), shape: [n, n] },
        { rows: tokens, cols: tokens, cellWidth: 2 },
      ).split('\n'),
    );
    section(`MultiHeadAttention(${DEMO_EMBED}, ${heads}): one map per head`);
    console.log(`Untrained (random initial weights, seed ${DEMO_SEED}): each head spreads its attention`);
    console.log("almost evenly; a trained model's heads each attend in a pattern of their own.");
    // Two heads side by side per line of output.
    for (let h = 0; h < heads; h += 2) {
      const left = maps[h];
      const right = maps[h + 1];
      const width = Math.max(...left.map((l) => l.length));
      console.log(`head ${h + 1}`.padEnd(width + 4) + `head ${h + 2}`);
      left.forEach((line, i) => console.log(line.padEnd(width + 4) + (right?.[i] ?? '')));
    }
  } finally {
    mha.dispose();
  }
}

export function printQuickTiming(): void {
  section('Quick timing (single thread, median of repeated calls)');
  console.log(`build: ${getEngine().info.build}; the repository's \`npm run bench\` compares engines.`);
  const x = randn(2, [2, 10, 64]);
  const module = new SelfAttention(64);
  const sd = initialSelfAttentionWeights(64);
  const rows: Array<[string, number, number]> = [];
  try {
    rows.push(['seed module, 2 × 10 × 64', medianMs(() => module.forward(x)), medianMs(() => refSelfAttention(sd, x))]);
  } finally {
    module.dispose();
  }
  const q = randn(3, [512, 64]);
  const k = randn(4, [512, 64]);
  const v = randn(5, [512, 64]);
  rows.push([
    'SDPA 512×64',
    medianMs(() => scaledDotProductAttention(q, k, v)),
    medianMs(() => refAttention(q, k, v), 1000, 5),
  ]);
  rows.push([
    'SDPA 512×64 causal',
    medianMs(() => scaledDotProductAttention(q, k, v, { causal: true })),
    medianMs(() => refAttention(q, k, v, { causal: true }), 1000, 5),
  ]);
  console.log(
    `${'work'.padEnd(30)}${'wasm-attention'.padStart(16)}${'plain JS (f64)'.padStart(16)}${'speed-up'.padStart(10)}`,
  );
  for (const [name, wasm, js] of rows) {
    console.log(
      `${name.padEnd(30)}${`${wasm.toFixed(3)} ms`.padStart(16)}${`${js.toFixed(3)} ms`.padStart(16)}${`${(js / wasm).toFixed(1)}×`.padStart(10)}`,
    );
  }
}

export async function runDemo(): Promise<void> {
  const engine = await init();
  console.log('wasm-attention — transformer self-attention on the CPU, in WebAssembly SIMD');
  console.log(`build: ${describeBuild(engine)}`);
  printSeedExample();
  printHeatmaps();
  printHeadHeatmaps();
  printQuickTiming();
}
