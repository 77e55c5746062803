// A static file server on 127.0.0.1 with a strict Content Security Policy: the demo page's server and the
// browser tests'.
import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';

/** The policy a careful site sends: everything from itself only, WebAssembly compilation allowed, no eval. */
export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'";

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
};

/** The headers that make a page cross-origin isolated (SharedArrayBuffer, so threads over one memory). */
export const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * Serves `dir` on 127.0.0.1 (`port` 0: any free one), cross-origin isolated if asked; resolves to its URL and the
 * server.
 */
export async function serve(dir, port = 0, { isolated = false } = {}) {
  const extra = isolated ? ISOLATION : {};
  const server = createServer((req, res) => {
    // Browsers ask for it on their own; answering keeps 404s meaningful.
    if (req.url === '/favicon.ico') {
      res.writeHead(204, { 'Content-Security-Policy': CSP });
      res.end();
      return;
    }
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(
      /^(\.\.[/\\])+/,
      '',
    );
    let file = join(dir, path);
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const body = readFileSync(file);
      res.writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Content-Security-Policy': CSP,
        'Cache-Control': 'no-store',
        ...extra,
      });
      res.end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return { url: `http://127.0.0.1:${server.address().port}/`, server };
}
