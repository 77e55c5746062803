#!/usr/bin/env node
// `wasm-attention demo | bench`
import { init } from './ops/engines.js';
import { printQuickTiming, runDemo } from './demo.js';

const USAGE =
  'usage: wasm-attention [demo | bench]\n  demo   the seed example, its attention heatmaps and a quick timing (default)\n  bench  the quick timing alone';

async function main(command = 'demo'): Promise<void> {
  if (command === 'demo') return runDemo();
  if (command === 'bench') {
    await init();
    return printQuickTiming();
  }
  if (command === '--help' || command === '-h') return console.log(USAGE);
  console.error(`unknown command '${command}'\n${USAGE}`);
  process.exitCode = 2;
}

main(process.argv[2]).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
