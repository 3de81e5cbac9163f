#!/usr/bin/env node
// A small static server (no dependencies) for the browser example and the
// browser tests. It serves a folder (default: the repository root, so that
// /dist/, /examples/browser/ and /node_modules/@tensorflow/tfjs/ are all
// reachable) with the headers that make a page cross-origin isolated:
//
//   Cross-Origin-Opener-Policy: same-origin
//   Cross-Origin-Embedder-Policy: require-corp
//   Cross-Origin-Resource-Policy: same-origin
//
// so SharedArrayBuffer exists and init() picks the SIMD + threads build.
// With --no-isolation the first two are left out and the page gets the
// single-threaded SIMD build.
//
//   npm run build && node scripts/serve-example.mjs            # http://localhost:8080/examples/browser/
//   node scripts/serve-example.mjs --port 0 --no-isolation     # any free port, no COOP/COEP
//   node scripts/serve-example.mjs --root some/dist --open /   # serve another folder
//
// Also usable from tests: import { startServer } from './serve-example.mjs'.
import { createServer } from 'node:http';
import { createReadStream, promises as fs } from 'node:fs';
import { extname, join, normalize, resolve, sep, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

/**
 * Starts the server. Resolves to { server, port, url, close() }.
 * options: root (folder to serve), port (0 = any free port), host,
 * isolation (COOP/COEP headers, default true), index (path the printed URL
 * points at), log (print each request).
 */
export function startServer(options = {}) {
  const root = resolve(options.root ?? repoRoot);
  const isolation = options.isolation ?? true;
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? false;

  const server = createServer(async (req, res) => {
    const headers = { 'Cache-Control': 'no-store', 'Cross-Origin-Resource-Policy': 'same-origin' };
    if (isolation) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    const send = (status, body, type = 'text/plain; charset=utf-8', extra = {}) => {
      res.writeHead(status, { ...headers, 'Content-Type': type, ...extra });
      res.end(body);
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
      let pathname;
      try {
        pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      } catch {
        return send(400, 'bad request\n');
      }
      // Stay inside root: normalise, then check the prefix.
      let file = normalize(join(root, pathname));
      if (file !== root && !file.startsWith(root + sep)) return send(403, 'forbidden\n');
      let stat = await fs.stat(file).catch(() => null);
      if (stat && stat.isDirectory()) {
        if (!pathname.endsWith('/')) return send(301, '', undefined, { Location: pathname + '/' });
        file = join(file, 'index.html');
        stat = await fs.stat(file).catch(() => null);
        if (!stat && pathname === '/' && root === repoRoot) {
          return send(302, '', undefined, { Location: '/examples/browser/' });
        }
      }
      if (!stat || !stat.isFile()) {
        if (log) console.log(`404 ${req.url}`);
        return send(404, `not found: ${pathname}\n`);
      }
      if (log) console.log(`200 ${req.url}`);
      res.writeHead(200, {
        ...headers,
        'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'Content-Length': stat.size,
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).pipe(res);
    } catch (e) {
      send(500, `error: ${e && e.message}\n`);
    }
  });

  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      const { port } = server.address();
      const origin = `http://${host === '127.0.0.1' ? 'localhost' : host}:${port}`;
      resolvePromise({
        server,
        port,
        origin,
        url: origin + (options.index ?? (root === repoRoot ? '/examples/browser/' : '/')),
        close: () =>
          new Promise((r) => {
            server.close(() => r());
            // keep-alive connections (and a page's workers) must not hold the close up
            server.closeAllConnections?.();
          }),
      });
    });
  });
}

function parseArgs(argv) {
  const opts = { port: 8080, isolation: true, log: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port' || a === '-p') opts.port = Number(value());
    else if (a.startsWith('--port=')) opts.port = Number(a.slice(7));
    else if (a === '--no-isolation') opts.isolation = false;
    else if (a === '--root') opts.root = resolve(value());
    else if (a === '--host') opts.host = value();
    else if (a === '--open') opts.index = value();
    else if (a === '--log') opts.log = true;
    else if (a === '--help' || a === '-h') opts.help = true;
    else throw new Error(`unknown option ${a} (try --help)`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new Error('--port must be 0..65535');
  return opts;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`serve-example: ${e.message}`);
    process.exit(2);
  }
  if (opts.help) {
    console.log('usage: node scripts/serve-example.mjs [--port N] [--no-isolation] [--root DIR] [--host H] [--open PATH] [--log]');
    process.exit(0);
  }
  startServer(opts).then(
    ({ url }) => {
      const how = opts.isolation
        ? 'cross-origin isolated (COOP same-origin + COEP require-corp): threads on'
        : 'without COOP/COEP: single-threaded SIMD fallback';
      console.log(`conv-transpose-wasm example: ${url}\n  ${how}; Ctrl+C to stop`);
    },
    (e) => {
      console.error(`serve-example: ${e.code === 'EADDRINUSE' ? `port ${opts.port} is in use (try --port 0)` : e.message}`);
      process.exit(1);
    }
  );
}
