// How the benchmark times a call, in one place: the warm-up, the timed runs,
// the interleaved rounds that put every peer of a shape on the same machine
// drift, and the policy (how long, how many runs) that a full run and a
// --quick run use. Sections and peers only say what to run; the rules for
// timing it live here so that every figure in a report is measured alike.

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const now = () => performance.now();

export function median(a) {
  const s = Float64Array.from(a).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// A small seeded generator (mulberry32): the same run order and the same
// data (shapes.mjs) in every run, so two runs differ only by the machine.
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The measuring policy of a run (from the parsed flags o). Warm-up: run until
 * warmupMs has passed and at least warmRuns runs were made (whichever is
 * later). Timed: enough runs to fill timeMs, at least minRuns (quick: a run
 * estimated over slowRunMs gets one). collect: a full garbage collection
 * before each timed slice (full runs; in quick runs' 33 ms slices it would
 * take a large share of the minute). sidePolicy: the element-type and layout
 * lines (ours against ours), in quick mode shorter, so that the whole run
 * stays under a minute.
 */
export function timingPolicy(o) {
  const policy = o.quick
    ? { warmupMs: o.warmupMs ?? 40, warmRuns: 2, timeMs: o.timeMs ?? 100, minRuns: 3, maxRuns: 2000,
        slowRunMs: 250, skipSlowCpuMs: (o.cpuSkipS ?? 0.5) * 1000, pauseMs: 10, rounds: o.rounds ?? 3, collect: false }
    : { warmupMs: o.warmupMs ?? 500, warmRuns: 3, timeMs: o.timeMs ?? 2000, minRuns: 5, maxRuns: 100000,
        slowRunMs: Infinity, skipSlowCpuMs: o.cpuSkipS !== null ? o.cpuSkipS * 1000 : Infinity, pauseMs: 100,
        rounds: o.rounds ?? 8, collect: true };
  const sidePolicy = o.quick ? { ...policy, warmupMs: o.warmupMs ?? 20, timeMs: o.timeMs ?? 40 } : policy;
  return { policy, sidePolicy };
}

/** The report's description of the policy: warm-up and timed runs per cell. */
export function policyLines(policy, quick) {
  const collects = policy.collect && typeof globalThis.gc === 'function';
  return [
    `- warm-up per cell: the first call, then until ${policy.warmupMs} ms have passed and at least ${policy.warmRuns} runs were made (whichever is later)${quick ? `; a run over ${policy.slowRunMs} ms ends it` : ''}`,
    `- timed per cell: ~${policy.timeMs} ms of runs in ${policy.rounds} interleaved rounds: each round times every peer of the shape for ~${Math.round(policy.timeMs / policy.rounds)} ms (at least one run; a run longer than two such slices only until ${policy.minRuns} runs${quick ? `, one if over ${policy.slowRunMs} ms` : ''}), the order shuffled anew each round and ${collects ? 'a full garbage collection and ' : ''}a ${policy.pauseMs} ms pause before each${collects || !policy.collect ? '' : ' (no collection: run with --expose-gc for one)'}; median of all runs reported. Drift in the machine's speed falls on every peer alike`,
  ];
}

// Warm-up runs of fn. The first call often carries one-time work
// (allocations, thread start, lazy init): the warm-up clock starts after it.
async function warmUp(fn, isAsync, policy) {
  const warm = [];
  let last;
  let w0 = 0;
  while (warm.length < policy.warmRuns || now() - w0 < policy.warmupMs) {
    const t = now();
    last = isAsync ? await fn() : fn();
    warm.push(now() - t);
    if (warm.length === 1) w0 = now();
    if (warm[warm.length - 1] > policy.slowRunMs) break; // quick: one slow warm-up is enough
  }
  return { warm, last };
}

// What measure() and measureInterleaved() report for one fn.
function summary(warm, times, last) {
  return {
    medianMs: median(times),
    minMs: times.reduce((x, y) => Math.min(x, y), Infinity),
    runs: times.length,
    warmupRuns: warm.length,
    warmupMs: warm.reduce((a, b) => a + b, 0),
    firstRunMs: warm[0],
    output: last,
  };
}

/**
 * Warm-up then timed runs of fn (sync, or async when isAsync). fn returns the
 * output; the last one is kept for the check.
 */
export async function measure(fn, isAsync, policy) {
  const { warm, last: warmLast } = await warmUp(fn, isAsync, policy);
  let last = warmLast;
  const est = Math.min(...warm.slice(-2));
  let runs = Math.ceil(policy.timeMs / Math.max(est, 1e-3));
  runs = Math.min(policy.maxRuns, Math.max(est > policy.slowRunMs ? 1 : policy.minRuns, runs));
  const times = new Array(runs);
  for (let i = 0; i < runs; i++) {
    const t = now();
    last = isAsync ? await fn() : fn();
    times[i] = now() - t;
  }
  return summary(warm, times, last);
}

// A full garbage collection where the engine allows it (node --expose-gc, as
// `npm run bench` runs it); a no-op otherwise.
export function collectGarbage() {
  if (typeof globalThis.gc === 'function') globalThis.gc();
}

/**
 * Several handles measured against each other on a shared, noisy machine:
 * each is warmed up (as in measure()), then all are timed in policy.rounds
 * rounds, every handle running for timeMs / rounds (at least one run) per
 * round, in an order shuffled anew each round, with a pause before each. Drift in the machine's speed then falls on every handle alike.
 * handle: { key, run, isAsync, before?: async () => void } (before: e.g. set
 * the thread count). Returns a Map key -> measure()-like result.
 */
export async function measureInterleaved(handles, policy) {
  const state = new Map();
  for (const h of handles) {
    try {
      if (h.before) await h.before();
      const { warm, last } = await warmUp(h.run, h.isAsync, policy);
      state.set(h.key, { warm, times: [], last, est: Math.min(...warm.slice(-2)) });
    } catch (e) {
      state.set(h.key, { error: e });
    }
    await sleep(policy.pauseMs);
  }
  const slice = policy.timeMs / policy.rounds;
  // A new order every round (seeded shuffle): a peer does not always follow
  // the same peer, whose threads or garbage may still be busy for a while.
  const rng = mulberry32(12345);
  for (let r = 0; r < policy.rounds; r++) {
    const order = handles.slice();
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let i = 0; i < order.length; i++) {
      const h = order[i];
      const st = state.get(h.key);
      if (st.error) continue;
      // A run far longer than its share (tfjs-cpu on the large shapes): one run
      // per round until it has minRuns (quick: one in all), not one per round.
      const slow = st.est > policy.slowRunMs || st.est > 2 * slice;
      if (slow && st.times.length >= (st.est > policy.slowRunMs ? 1 : policy.minRuns)) continue;
      // The garbage of the slice before (result arrays: megabytes a run) is
      // collected here, not in this handle's timed runs; the pause gives the
      // engine's background threads time to finish freeing it.
      if (policy.collect) collectGarbage();
      await sleep(policy.pauseMs);
      try {
        if (h.before) await h.before();
        const t0 = now();
        do {
          const t = now();
          st.last = h.isAsync ? await h.run() : h.run();
          st.times.push(now() - t);
        } while (now() - t0 < slice && st.times.length < policy.maxRuns);
      } catch (e) {
        st.error = e;
      }
    }
  }
  const out = new Map();
  for (const [key, st] of state) out.set(key, st.error ? { error: st.error } : summary(st.warm, st.times, st.last));
  return out;
}
