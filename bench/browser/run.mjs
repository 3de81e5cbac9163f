// The benchmark in headless Chromium: this library's builds against LiteRT.js,
// onnxruntime-web and tfjs-backend-wasm in one cross-origin isolated page
// (bench/browser/page.mjs), and the table printed here with the host's CPU
// and the browser's version. `npm run bench:browser`.
//
//   node bench/browser/run.mjs                  all shapes (a few minutes)
//   node bench/browser/run.mjs --quick          short slices (about a minute)
//   node bench/browser/run.mjs --shapes S1,E1 --time-ms 1000 --rounds 6
//
// Steps: esbuild bundles page.mjs (with @litertjs/core and the bench's own
// modules) into bench/results/browser/page.js; the repository's static server
// (scripts/serve-example.mjs) serves the repository with COOP/COEP; Chromium
// (/usr/bin/chromium through playwright-core, the flags of the browser tests)
// opens bench/browser/index.html with V8's --no-liftoff (wasm optimized
// before it runs, as in `npm run bench`) and --expose-gc (a collection before
// each timed slice); the page's progress lines are printed as they come.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { fmtGf, fmtGflop, fmtMs, fmtRatio } from '../lib/format.mjs';
import { SHAPES } from '../lib/shapes.mjs';
import { TOLERANCE } from '../lib/peer-kinds.mjs';
import { startServer } from '../../scripts/serve-example.mjs';
import { CHROMIUM_ARGS, chromiumPath } from '../../tests/browser/engines.mjs';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const OUT = path.join(ROOT, 'bench', 'results', 'browser');

function usage() {
  return `usage: node bench/browser/run.mjs [flags]
  --quick              short warm-up and timing (about a minute for all shapes)
  --shapes S1,S3,...   shapes to run (default: all): ${SHAPES.map((s) => s.id).join(',')}
  --threads N          threads for every threaded peer (default 2)
  --time-ms N          target timed duration per cell (default 2000, quick 100)
  --rounds N           interleaved rounds per shape (default 8, quick 3)
  --warmup-ms N        minimum warm-up per cell (default 500, quick 40)
  --json PATH          where to write the results (default bench/results/browser-latest.json)
  --help`;
}

function parseArgs(argv) {
  const o = { quick: false, shapes: SHAPES.map((s) => s.id), threads: 2, timeMs: null, rounds: null, warmupMs: null,
    json: path.join(ROOT, 'bench', 'results', 'browser-latest.json') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--quick': o.quick = true; break;
      case '--shapes': o.shapes = value().split(',').map((s) => s.trim().toUpperCase()).filter(Boolean); break;
      case '--threads': o.threads = parseInt(value(), 10); break;
      case '--time-ms': o.timeMs = Number(value()); break;
      case '--rounds': o.rounds = parseInt(value(), 10); break;
      case '--warmup-ms': o.warmupMs = Number(value()); break;
      case '--json': o.json = path.resolve(value()); break;
      case '--help': case '-h': console.log(usage()); process.exit(0); break;
      default: throw new Error(`unknown flag ${a}\n${usage()}`);
    }
  }
  for (const s of o.shapes) if (!SHAPES.some((x) => x.id === s)) throw new Error(`unknown shape ${s}`);
  if (!(o.threads >= 1)) throw new Error('--threads must be >= 1');
  return o;
}

function hostCpu() {
  try {
    const line = execFileSync('lscpu', { encoding: 'utf8' }).split('\n').find((l) => l.startsWith('Model name:'));
    if (line) return line.slice('Model name:'.length).trim();
  } catch { /* no lscpu */ }
  return os.cpus()[0]?.model ?? '?';
}

async function bundlePage() {
  const esbuild = require('esbuild');
  fs.mkdirSync(OUT, { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(HERE, 'page.mjs')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: path.join(OUT, 'page.js'),
    logLevel: 'warning',
  });
}

// The table: per shape, each build's median, the peers' medians, the default
// build's GFLOP/s, and every other median over the default build's (> 1: the
// default build is faster).
function printTables(result) {
  const { env, shapes } = result;
  const def = env.builds.find((b) => b.isDefault).backend;
  const ours = env.builds.map((b) => `ours:${b.backend}`);
  const others = ['tfjs-wasm', 'ort', 'litert', 'litert-run'];
  const label = (p) => (p.startsWith('ours:') ? p.slice(5) : { 'tfjs-wasm': 'tfjs-wasm', ort: 'ort-web', litert: 'litert', 'litert-run': 'litert run' }[p]);
  const cellMs = (c) => {
    if (!c || c.status === 'unsupported') return 'n/a';
    if (c.status !== 'measured') return 'error';
    return fmtMs(c.medianMs) + (c.checkOk === false ? ' ✗' : '');
  };
  const ratio = (e, p) => {
    const c = e.cells[p];
    const base = e.cells[`ours:${def}`];
    return c?.status === 'measured' && base?.status === 'measured' ? fmtRatio(c.medianMs / base.medianMs) : '-';
  };
  const vs = [...ours.filter((p) => p !== `ours:${def}`), ...others];
  const heads = ['shape', 'GFLOP', ...ours.map((p) => `${label(p)} ms`), ...others.map((p) => `${label(p)} ms`), `${def} GFLOP/s`, ...vs.map((p) => `vs ${label(p)}`)];
  const lines = [`| ${heads.join(' | ')} |`, `|:--|${heads.slice(1).map(() => '--:').join('|')}|`];
  for (const e of shapes) {
    lines.push(`| ${[e.id, fmtGflop(e.flops), ...[...ours, ...others].map((p) => cellMs(e.cells[p])), fmtGf(e.cells[`ours:${def}`]?.gflops), ...vs.map((p) => ratio(e, p))].join(' | ')} |`);
  }
  const peers = [...ours, ...others];
  const checks = [`| shape | ${peers.map(label).join(' | ')} |`, `|:--|${peers.map(() => ':--').join('|')}|`];
  for (const e of shapes) {
    checks.push(`| ${e.id} | ${peers.map((p) => {
      const c = e.cells[p];
      if (!c || c.status === 'unsupported') return 'n/a';
      if (c.status !== 'measured') return `error: ${c.error}`;
      return `${c.checkOk ? 'ok' : 'FAILED'} ${c.relError === null ? '-' : c.relError.toExponential(0)}`;
    }).join(' | ')} |`);
  }
  return { lines, checks, def };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const distScript = path.join(ROOT, 'dist', 'conv-transpose-wasm.js');
  if (!fs.existsSync(distScript)) throw new Error('dist/conv-transpose-wasm.js is missing: run `npm run build` first');
  await bundlePage();
  const server = await startServer({ port: 0, isolation: true });
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true,
    args: [...CHROMIUM_ARGS, '--js-flags=--no-liftoff --expose-gc'] });
  const t0 = Date.now();
  const loadavgStart = os.loadavg();
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'log') console.log(`  [page] ${m.text()}`);
      else if (m.type() === 'error') console.error(`  [page error] ${m.text()}`);
    });
    page.on('pageerror', (e) => console.error(`  [page exception] ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) console.error(`  [page] ${r.status()} ${r.url()}`);
    });
    await page.goto(`http://127.0.0.1:${server.port}/bench/browser/index.html`);
    await page.waitForFunction(() => globalThis.benchReady === true, null, { timeout: 60000 });
    const config = { quick: opts.quick, shapes: opts.shapes, threads: opts.threads, timeMs: opts.timeMs, rounds: opts.rounds, warmupMs: opts.warmupMs };
    const result = await page.evaluate((c) => globalThis.runBench(c), config);
    const meta = {
      date: new Date().toISOString(), hostCpu: hostCpu(), cores: os.cpus().length, loadavgStart, loadavgEnd: os.loadavg(),
      browser: `Chromium ${browser.version()}`, flags: '--js-flags=--no-liftoff --expose-gc', config, totalSeconds: (Date.now() - t0) / 1000,
    };
    const { lines, checks, def } = printTables(result);
    const e = result.env;
    const out = [
      '',
      `# conv-transpose-wasm browser benchmark${opts.quick ? ' (--quick)' : ''}`,
      '',
      `- host CPU: ${meta.hostCpu}, ${meta.cores} cores, load average ${meta.loadavgStart.map((x) => x.toFixed(2)).join(' ')} at the start, ${meta.loadavgEnd.map((x) => x.toFixed(2)).join(' ')} at the end`,
      `- ${meta.browser}, headless, ${meta.flags}; crossOriginIsolated ${e.crossOriginIsolated}, hardwareConcurrency ${e.hardwareConcurrency}${e.gc ? ', gc before each slice' : ''}`,
      `- this library: ${e.builds.map((b) => `${b.backend}${b.isDefault ? ' (init() default)' : ''} on ${b.init.threads} thread${b.init.threads > 1 ? 's' : ''}`).join(', ')}; prepared form, a new result array per call${e.skippedBuilds.length ? `; not loaded: ${e.skippedBuilds.map((s) => `${s.backend} (${s.reason})`).join('; ')}` : ''}`,
      `- LiteRT.js: ${e.litert.threaded ? 'threaded relaxed-SIMD build' : `single-thread build (${e.litert.whyNot})`}, accelerator 'wasm' (XNNPACK), ${e.litert.threads} threads; "litert" = new Tensor + run + toTypedArray, "litert run" = run alone; 3-D: no TFLite operator (n/a)`,
      `- onnxruntime-web ${e.ort.version ?? ''}: wasm EP, ${e.ort.threads} threads; tfjs-backend-wasm ${e.tfjs.version}: ${e.tfjs.threads} thread${e.tfjs.threads > 1 ? 's' : ''} (asked for ${opts.threads}; multithread ${e.tfjs.multithread}, SIMD ${e.tfjs.simd}); its conv3dTranspose returns wrong values (✗)`,
      `- medians of ~${e.policy.timeMs} ms per cell in ${e.policy.rounds} interleaved rounds, shuffled order; "vs X" = X's median / ${def}'s (> 1: ${def} is faster)`,
      '',
      ...lines,
      '',
      `Output check: max|diff| / max|ref| against ${def} one-call, tolerance ${TOLERANCE}.`,
      '',
      ...checks,
    ];
    for (const l of out) console.log(l);
    fs.mkdirSync(path.dirname(opts.json), { recursive: true });
    fs.writeFileSync(opts.json, `${JSON.stringify({ meta, ...result, markdown: { table: lines, checks } }, null, 2)}\n`);
    console.log(`\nJSON: ${path.relative(process.cwd(), opts.json)}; total ${meta.totalSeconds.toFixed(0)} s`);
  } finally {
    await browser.close().catch(() => {});
    await server.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
  }
);
