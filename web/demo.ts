// The demo page: per-head attention heatmaps of a typed sentence (the weight under the pointer, its row and column
// highlighted), the build in use, and a timing against plain JavaScript.
import { embedTokens } from '../src/embeddings.js';
import { heatmapSvg } from '../src/heatmap.js';
import { init, MultiHeadAttention, type StateDict } from '../src/index.js';
import { mulberry32, uniform } from '../src/modules/random.js';
import { plainMultiHead } from './plain-attention.js';

const E = 32;
const HEADS = 4;
const MAX_TOKENS = 16;

/** Seeded projection weights, shared by the module and the plain-JS reference it is timed against. */
function weights(): StateDict {
  const next = mulberry32(5);
  const t = (shape: number[]) => ({
    data: uniform(
      next,
      shape.reduce((a, b) => a * b, 1),
      1 / Math.sqrt(E),
    ),
    shape,
  });
  return {
    'q_proj.weight': t([E, E]),
    'q_proj.bias': t([E]),
    'k_proj.weight': t([E, E]),
    'k_proj.bias': t([E]),
    'v_proj.weight': t([E, E]),
    'v_proj.bias': t([E]),
    'out_proj.weight': t([E, E]),
    'out_proj.bias': t([E]),
  };
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

async function main(): Promise<void> {
  const engine = await init();
  $('build').textContent =
    `build: ${engine.info.build}${engine.info.build === 'relaxed-simd' ? ' (f32x4.relaxed_madd: fused multiply-add)' : ' (plain SIMD128)'}`;
  const sd = weights();
  const mha = MultiHeadAttention.fromStateDict(sd, { numHeads: HEADS });
  const input = $<HTMLInputElement>('sentence');
  const causal = $<HTMLInputElement>('causal');
  const words = () => input.value.trim().split(/\s+/).filter(Boolean);
  const tokens = () => words().slice(0, MAX_TOKENS);

  const draw = () => {
    // A timing of another sentence is stale.
    $('timing').textContent = '';
    $('readout').textContent = 'Point at a cell to read its weight.';
    const count = words().length;
    $('cut').textContent = count > MAX_TOKENS ? `The maps show the first ${MAX_TOKENS} of your ${count} words.` : '';
    const toks = tokens();
    if (toks.length === 0) {
      $('maps').textContent = 'Type a sentence.';
      return;
    }
    const x = embedTokens(toks, E);
    const { weights: w } = mha.forward(x, x, x, { causal: causal.checked, averageWeights: false });
    const n = toks.length;
    $('maps').innerHTML = Array.from(
      { length: HEADS },
      (_, h) =>
        `<figure data-head="${h + 1}">${heatmapSvg({ data: w!.data.subarray(h * n * n, (h + 1) * n * n), shape: [n, n] }, { rows: toks, cols: toks, title: `head ${h + 1}` })}</figure>`,
    ).join('');
    document.body.dataset.tokens = String(n);
  };

  // The weight under the pointer, read out; its row (the query) and column (the key) highlighted in that map.
  const maps = $('maps');
  maps.addEventListener('mouseover', (e) => {
    const cell = (e.target as Element).closest('rect.cell');
    const figure = cell?.closest('figure');
    if (!cell || !figure) return;
    const [row, col] = [cell.getAttribute('data-row'), cell.getAttribute('data-col')];
    const toks = tokens();
    $('readout').textContent =
      `head ${figure.dataset.head}: "${toks[Number(row)]}" → "${toks[Number(col)]}" ${Number(cell.getAttribute('data-weight')).toFixed(3)}`;
    for (const c of Array.from(maps.querySelectorAll('rect.cell'))) {
      c.classList.toggle(
        'lit',
        c.closest('figure') === figure && (c.getAttribute('data-row') === row || c.getAttribute('data-col') === col),
      );
    }
  });
  maps.addEventListener('mouseleave', () => {
    for (const c of Array.from(maps.querySelectorAll('rect.lit'))) c.classList.remove('lit');
  });

  $('time').addEventListener('click', () => {
    const x = embedTokens(tokens(), E);
    const batch = { data: x.data, shape: [1, ...x.shape] };
    // The same for both: 300 ms of calls to warm up (the first few hundred run unoptimised code), then the mean
    // over at least 300 ms more.
    const time = (fn: () => unknown) => {
      for (const t0 = performance.now(); performance.now() - t0 < 300;) fn();
      let runs = 0;
      const t0 = performance.now();
      while (runs < 10 || performance.now() - t0 < 300) {
        fn();
        runs++;
      }
      return (performance.now() - t0) / runs;
    };
    const ours = time(() => mha.forward(batch, batch, batch, { causal: causal.checked, needWeights: false }));
    const p = (key: string) => sd[key].data;
    const w = {
      wq: p('q_proj.weight'),
      bq: p('q_proj.bias'),
      wk: p('k_proj.weight'),
      bk: p('k_proj.bias'),
      wv: p('v_proj.weight'),
      bv: p('v_proj.bias'),
      wo: p('out_proj.weight'),
      bo: p('out_proj.bias'),
    };
    const js = time(() => plainMultiHead(w, x.data, x.shape[0], E, HEADS, causal.checked));
    const ratio = js / ours;
    const verdict = ratio >= 1 ? `${ratio.toFixed(1)}× faster` : `${(1 / ratio).toFixed(1)}× slower`;
    $('timing').textContent =
      `${x.shape[0]} tokens: wasm-attention ${ours.toFixed(3)} ms · plain JavaScript (Float32Array loops) ${js.toFixed(3)} ms · wasm-attention is ${verdict}`;
  });

  input.addEventListener('input', draw);
  causal.addEventListener('change', draw);
  draw();
  document.body.dataset.ready = 'true';
}

main().catch((e: unknown) => {
  $('build').textContent = `failed: ${e instanceof Error ? e.message : String(e)}`;
});
