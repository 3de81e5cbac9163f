// The package in Node, Bun and Deno: each runtime runs tests/runtime/check.mjs
// (default init(), results against a float64 reference, the worker mode,
// the process exits by itself) as a user would load the package:
//   - installed: `npm pack`, installed into an empty project, then
//     import 'conv-transpose-wasm' and require('conv-transpose-wasm');
//   - from a path: import of dist/index.mjs from a folder with no package.json
//     (a checkout, or files copied into a project).
//
//   npm run test:runtimes        (node --test tests/runtime/; needs dist/)
//
// Bun and Deno come from npm (the devDependencies `bun` and `deno`, whose
// optional dependencies carry the Linux binaries). Deno runs with
// --allow-read only: reading the .wasm files is the one permission needed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packAndInstall } from '../browser/helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const bin = (name) => join(repoRoot, 'node_modules', '.bin', name);
const KEEP = process.env.KEEP_TMP === '1';
// A run that has not exited this long after it started did not exit by itself
// (the whole check takes 1-3 s).
const EXIT_TIMEOUT_MS = 60000;

// threaded: the build init() chooses there. Bun's JavaScriptCore and Deno's
// V8 validate relaxed SIMD; Node 20 only with --experimental-wasm-relaxed-simd.
const RUNTIMES = {
  node: { cmd: process.execPath, args: [], threaded: 'wasm-simd-threads' },
  bun: { cmd: bin('bun'), args: [], threaded: 'wasm-relaxed-simd-threads' },
  deno: { cmd: bin('deno'), args: ['run', '--allow-read', '--no-lock'], threaded: 'wasm-relaxed-simd-threads' },
};

let tmp;
let app;
let plain;
const fnvs = new Map();

function version(name) {
  return execFileSync(RUNTIMES[name].cmd, ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
}

/** Runs check.mjs; resolves to { code, signal, timedOut, stdout, stderr, ms }. */
function runCheck(name, cwd, spec, mode) {
  const { cmd, args } = RUNTIMES[name];
  return new Promise((done, fail) => {
    const t0 = Date.now();
    const child = spawn(cmd, [...args, 'check.mjs', spec, mode], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, EXIT_TIMEOUT_MS);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, timedOut, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

before(() => {
  assert.ok(existsSync(join(repoRoot, 'dist', 'index.mjs')), 'dist/ is missing: npm run build first');
  for (const name of ['bun', 'deno']) {
    assert.ok(existsSync(bin(name)), `node_modules/.bin/${name} is missing: npm ci installs the devDependency '${name}'`);
  }
  tmp = mkdtempSync(join(tmpdir(), 'ctw-runtimes-'));
  app = packAndInstall(tmp);
  plain = join(tmp, 'plain');
  mkdirSync(plain);
  for (const dir of [app, plain]) {
    for (const f of ['check.mjs', 'reference.mjs']) copyFileSync(join(here, f), join(dir, f));
  }
});

after(() => {
  if (KEEP) console.log(`# kept ${tmp}`);
  else if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const SCENARIOS = [
  { label: "installed, import 'conv-transpose-wasm'", where: () => app, spec: 'conv-transpose-wasm', mode: 'esm' },
  { label: "installed, require('conv-transpose-wasm')", where: () => app, spec: 'conv-transpose-wasm', mode: 'cjs' },
  { label: 'import of dist/index.mjs by path', where: () => plain, spec: () => join(repoRoot, 'dist', 'index.mjs'), mode: 'esm' },
];

const expectedThreads = Math.max(1, Math.min(8, availableParallelism()));

for (const name of Object.keys(RUNTIMES)) {
  for (const sc of SCENARIOS) {
    test(`${name}: ${sc.label}`, { timeout: EXIT_TIMEOUT_MS + 30000 }, async (t) => {
      if (sc === SCENARIOS[0]) t.diagnostic(version(name));
      const spec = typeof sc.spec === 'function' ? sc.spec() : sc.spec;
      const r = await runCheck(name, sc.where(), spec, sc.mode);
      assert.ok(!r.timedOut, `${name} did not exit by itself within ${EXIT_TIMEOUT_MS / 1000} s\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      assert.equal(r.code, 0, `${name} exited with ${r.code} (${r.signal ?? 'no signal'})\nstderr: ${r.stderr}`);
      const line = r.stdout.trim().split('\n').pop();
      const rep = JSON.parse(line);
      assert.equal(rep.runtime, name);

      // Default init(): the threaded build, with every core (at most 8).
      assert.equal(rep.init.backend, RUNTIMES[name].threaded, `init() chose ${JSON.stringify(rep.init)}`);
      assert.equal(rep.init.threads, expectedThreads, `init(): ${JSON.stringify(rep.init)}`);
      assert.equal(rep.init.simd, true);
      if (sc.mode === 'esm') assert.equal(rep.defaultExportSame, true, 'the default export differs from the named exports');

      // Synchronous calls against the float64 reference.
      for (const c of rep.cases) {
        assert.ok(
          c.worst <= 1,
          `${name} ${c.name}: |result - reference| = ${c.maxErr}, ${c.worst.toFixed(3)}x the allowed ${c.rel} * sum|terms| (element ${c.at})`
        );
      }
      assert.deepEqual(
        rep.cases.map((c) => [c.shape, c.dtype]),
        [[[2, 51, 4], 'float32'], [[1, 64, 64, 32], 'float32'], [[1, 5, 12, 12], 'float32'], [[1, 11, 14, 2], 'float32'], [[1, 6, 8, 10, 3], 'float64']]
      );

      // Worker mode: the worker's build, all calls in flight at once, each with its answer.
      assert.equal(rep.worker.backend, RUNTIMES[name].threaded, `initWorker(): ${JSON.stringify(rep.worker)}`);
      const invalid = rep.async.pop();
      assert.equal(rep.async.length, rep.cases.length);
      rep.async.forEach((a, i) => {
        assert.equal(a.error, undefined, `${name} ${a.name} (worker): rejected: ${a.error}`);
        assert.ok(a.worst <= 1, `${name} ${a.name} (worker): ${a.worst.toFixed(3)}x the allowed error`);
        assert.deepEqual([a.shape, a.dtype], [rep.cases[i].shape, rep.cases[i].dtype]);
        assert.equal(a.fnv, rep.cases[i].fnv, `${name} ${a.name}: the worker's bits differ from the main thread's`);
      });
      assert.equal(invalid.argumentError, true, `the invalid call: ${JSON.stringify(invalid)}`);
      assert.match(invalid.error, /output_shape/);

      const worst = Math.max(...rep.cases.map((c) => c.worst));
      t.diagnostic(
        `${rep.runtime} ${rep.version}: init ${JSON.stringify(rep.init)} in ${rep.initMs} ms; worst error ${worst.toFixed(3)} of the tolerance; ` +
          `worker calls ${rep.asyncMs} ms; 1.2 GFLOP call 1 vs ${rep.speedup.threads} threads: ${rep.speedup.oneMs} / ${rep.speedup.allMs} ms; ` +
          `process ran ${r.ms} ms and exited by itself`
      );
      const key = rep.cases.map((c) => c.fnv).join(',');
      fnvs.set(`${name} ${sc.mode}`, key);
      const others = [...new Set(fnvs.values())];
      if (others.length > 1) t.diagnostic(`note: result bits differ between runs: ${JSON.stringify(Object.fromEntries(fnvs))}`);
    });
  }
}
