'use strict';
// The library as a guest in a Node application: the host's own
// unhandledRejection / uncaughtException handlers and process.exitCode keep
// their behaviour after init(), a failed initWorker(), a terminated worker
// and a call rejected before it reaches the worker; and the process exits by
// itself in every case (no ref'd worker or pending entry left behind).
//
// Each scenario is a host app run as a child process with a timeout: a
// process that does not exit on its own is killed and the test fails.
const { spawnSync } = require('child_process');
const path = require('path');

const LIB = path.resolve(__dirname, '../..');
const TIMEOUT_MS = 60000;

// The host app: its handlers log and carry on; it sets exitCode 3 and prints
// what it saw when it exits. `scenario` is the body run after the handlers
// are installed (an async function body with `lib` and `log` in scope).
function hostApp(scenario) {
  return `
const lib = require(${JSON.stringify(LIB)});
const log = [];
const counts = () => [process.listenerCount('unhandledRejection'), process.listenerCount('uncaughtException'), process.listenerCount('exit')];
process.on('unhandledRejection', (r) => log.push('host saw rejection: ' + (r && r.message)));
process.on('uncaughtException', (e) => log.push('host saw exception: ' + (e && e.message)));
process.exitCode = 3;
const before = counts();
process.on('exit', (code) => {
  console.log(JSON.stringify({ log, code, listenersBefore: before, listenersAfter: counts() }));
});
(async () => {
  ${scenario}
  // The host's own errors, after the library has run: handled by the host, not fatal.
  Promise.reject(new Error('app rejection'));
  setTimeout(() => { throw new Error('app exception'); }, 5);
})();
`;
}

function runHost(scenario) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['-e', hostApp(scenario)], { encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: 1 << 20 });
  const ms = Date.now() - t0;
  const where = `status ${r.status}, signal ${r.signal}, ${ms} ms\nstdout: ${r.stdout.slice(0, 2000)}\nstderr: ${r.stderr.slice(0, 2000)}`;
  if (r.signal) throw new Error(`the host app did not exit by itself (killed after ${TIMEOUT_MS} ms): ${where}`);
  const line = r.stdout.trim().split('\n').pop();
  let report;
  try {
    report = JSON.parse(line);
  } catch {
    throw new Error(`the host app printed no report: ${where}`);
  }
  return { status: r.status, report, stderr: r.stderr, where };
}

function expectHostBehaviour({ status, report, stderr, where }, extraLog = []) {
  expect({ status, where }).toEqual({ status: 3, where });
  // The host's listeners only: the library added none (the exit listener is the host's report).
  expect(report.listenersBefore).toEqual([1, 1, 0]);
  expect(report.listenersAfter).toEqual([1, 1, 1]);
  expect(report.log).toEqual([...extraLog, 'host saw rejection: app rejection', 'host saw exception: app exception']);
  expect(stderr.length).toBeLessThan(2000);  // no minified glue printed
}

test('init() leaves the host process as it found it (no global handlers, exit code kept)', () => {
  expectHostBehaviour(runHost(`
    await lib.init();
    const y = lib.convTranspose({ data: new Float32Array([1, 2]), shape: [1, 2, 1] }, { data: new Float32Array([1]), shape: [1, 1, 1] }, [1, 4, 1], 2);
    log.push('computed ' + Array.from(y.data));
  `), ['computed 1,0,2,0']);
});

test('a failed initWorker (numThreads: 0, a wrong wasmPaths) leaves nothing running', () => {
  expectHostBehaviour(runHost(`
    await lib.initWorker({ numThreads: 0 }).catch((e) => log.push('initWorker failed: ' + /numThreads/.test(e.message)));
    await lib.initWorker({ wasmPaths: '/nowhere/' }).catch((e) => log.push('initWorker failed: ' + /nowhere/.test(e.message)));
  `), ['initWorker failed: true', 'initWorker failed: true']);
});

test('a worker terminated while it starts and while a call is in flight rejects them; nothing is left', () => {
  expectHostBehaviour(runHost(`
    const x = { data: new Float32Array(64 * 64 * 8), shape: [1, 64, 64, 8] };
    const w = { data: new Float32Array(9 * 8 * 8), shape: [3, 3, 8, 8] };
    const starting = lib.convTransposeAsync(x, w, [1, 128, 128, 8], 2).catch((e) => log.push('call during start: ' + e.message));
    await lib.terminateWorker();
    await starting;
    const y = await lib.convTransposeAsync(x, w, [1, 128, 128, 8], 2);
    log.push('after restart: ' + y.shape);
    // A call long enough to be in flight when the worker is stopped.
    const big = { data: new Float32Array(128 * 128 * 64), shape: [1, 128, 128, 64] };
    const bigW = { data: new Float32Array(25 * 64 * 64), shape: [5, 5, 64, 64] };
    const inFlight = lib.convTransposeAsync(big, bigW, [1, 256, 256, 64], 2)
      .then(() => log.push('in flight: answered before the stop'), (e) => log.push('in flight: ' + e.message));
    await new Promise((r) => setTimeout(r, 5));
    await lib.terminateWorker();
    await inFlight;
  `), [
    'call during start: conv-transpose-wasm: the worker was terminated',
    'after restart: 1,128,128,8',
    'in flight: conv-transpose-wasm: the worker was terminated',
  ]);
});

test("calls rejected before they reach the worker leave no pending entry and no ref'd worker", () => {
  expectHostBehaviour(runHost(`
    const x = { data: new Float32Array(4), shape: [1, 2, 2, 1] };
    const w = { data: new Float32Array(4), shape: [2, 2, 1, 1] };
    await lib.convTransposeAsync(x, w, [1, 4, 4, 1], 2);  // the worker is up
    const bad = [
      () => lib.convTransposeAsync(x, w, [1, 4, 4, 1], { h: () => 2 }),
      () => lib.convTransposeAsync(x, w, [1, 4, 4, 1], 2, 'SAME', null, null, Symbol('n')),
      () => lib.convTransposeAsync(x, w, new Proxy([1, 4, 4, 1], {}), [Symbol('s')]),
    ];
    for (const call of bad) {
      await call().then(() => log.push('resolved?'), (e) => log.push(e.constructor.name));
    }
  `), ['ArgumentError', 'ArgumentError', 'ArgumentError']);
});
