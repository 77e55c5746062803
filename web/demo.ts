// The demo page: per-head attention heatmaps of a typed sentence, the build in use, and a timing button.
import { embedTokens } from '../src/embeddings.js';
import { heatmapSvg } from '../src/heatmap.js';
import { init, MultiHeadAttention, type StateDict } from '../src/index.js';
import { mulberry32, uniform } from '../src/random.js';
import { refMultiHead } from '../src/reference.js';

const E = 32;
const HEADS = 4;
const MAX_TOKENS = 16;

/** Seeded projection weights, shared by the module and the plain-JS reference it is timed against. */
function weights(): StateDict {
  const next = mulberry32(5);
  const t = (shape: number[]) => ({ data: uniform(next, shape.reduce((a, b) => a * b, 1), 1 / Math.sqrt(E)), shape });
  return {
    'q_proj.weight': t([E, E]), 'q_proj.bias': t([E]), 'k_proj.weight': t([E, E]), 'k_proj.bias': t([E]),
    'v_proj.weight': t([E, E]), 'v_proj.bias': t([E]), 'out_proj.weight': t([E, E]), 'out_proj.bias': t([E]),
  };
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

async function main(): Promise<void> {
  const engine = await init();
  $('build').textContent = `build: ${engine.info.build}${engine.info.build === 'relaxed-simd' ? ' (f32x4.relaxed_madd: fused multiply-add)' : ' (plain SIMD128)'}`;
  const sd = weights();
  const mha = MultiHeadAttention.fromStateDict(sd, { numHeads: HEADS });
  const input = $<HTMLInputElement>('sentence');
  const causal = $<HTMLInputElement>('causal');
  const tokens = () => input.value.trim().split(/\s+/).filter(Boolean).slice(0, MAX_TOKENS);

  const draw = () => {
    const toks = tokens();
    if (toks.length === 0) {
      $('maps').textContent = 'Type a sentence.';
      return;
    }
    const x = embedTokens(toks, E);
    const { weights: w } = mha.forward(x, x, x, { causal: causal.checked, averageWeights: false });
    const n = toks.length;
    $('maps').innerHTML = Array.from({ length: HEADS }, (_, h) =>
      `<figure data-head="${h + 1}">${heatmapSvg({ data: w!.data.subarray(h * n * n, (h + 1) * n * n), shape: [n, n] }, { rows: toks, cols: toks, title: `head ${h + 1}` })}</figure>`,
    ).join('');
    document.body.dataset.tokens = String(n);
  };

  $('time').addEventListener('click', () => {
    const x = embedTokens(tokens(), E);
    const batch = { data: x.data, shape: [1, ...x.shape] };
    const time = (fn: () => unknown, runs: number) => {
      fn();
      const t0 = performance.now();
      for (let i = 0; i < runs; i++) fn();
      return (performance.now() - t0) / runs;
    };
    const ours = time(() => mha.forward(x, x, x, { causal: causal.checked }), 200);
    const w = { wq: sd['q_proj.weight'], bq: sd['q_proj.bias'], wk: sd['k_proj.weight'], bk: sd['k_proj.bias'], wv: sd['v_proj.weight'], bv: sd['v_proj.bias'], wo: sd['out_proj.weight'], bo: sd['out_proj.bias'] };
    const js = time(() => refMultiHead(w, batch, batch, batch, { numHeads: HEADS, causal: causal.checked }), 20);
    $('timing').textContent = `wasm-attention ${ours.toFixed(3)} ms · plain JavaScript (float64) ${js.toFixed(3)} ms · ${(js / ours).toFixed(1)}× faster`;
  });

  input.addEventListener('input', draw);
  causal.addEventListener('change', draw);
  draw();
  document.body.dataset.ready = 'true';
}

main().catch((e: unknown) => {
  $('build').textContent = `failed: ${e instanceof Error ? e.message : String(e)}`;
});
