// Packed filters of tfjs tensors, kept between calls.
//
// A model runs each layer's transposed convolution with the same filter
// tensor call after call; packing its filters once (createConvTranspose)
// instead of per call is what makes the prepared form fast. An entry is
// keyed by the tensor's data id (its storage, which tf.reshape shares and
// Variable.assign replaces) together with the filter shape and the window
// (strides, paddings, layout): the same data under another window packs
// differently.
//
// Rules:
//   - packed on the second use of a key: a filter that changes every step
//     (training) is a new data id each time and never packs for nothing;
//   - swept when the tensor's data is freed (tfjs's engine no longer knows
//     the data id): at every lookup, and at once where the backend's
//     disposeData is hooked (see tfjs.ts);
//   - bounded in bytes (the filters' float32 size): the least recently used
//     entries are freed first.
// Hazard: the cache assumes a tensor's data never changes. On the cpu
// backend tf.tensor(array) keeps the caller's array, so changing that array
// in place changes what tfjs computes but not the packed copy; such callers
// turn caching off (cacheFilters: false).

import type { PreparedConvTranspose } from './index.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

interface Entry {
  key: string;
  uses: number;
  op: PreparedConvTranspose | null;
  bytes: number;
  lastUse: number;
}

export interface FilterCacheStats {
  /** Keys with packed filters. */
  entries: number;
  /** Float32 bytes of the filters packed now. */
  bytes: number;
  /** Filters packed (on a key's second use). */
  packs: number;
  /** Calls that ran on packed filters. */
  hits: number;
  /** Entries freed because their tensor was disposed. */
  swept: number;
  /** Entries freed to stay within maxBytes. */
  evicted: number;
}

export const DEFAULT_CACHE_BYTES = 256 * 1024 * 1024;

export class FilterCache {
  enabled = true;
  maxBytes = DEFAULT_CACHE_BYTES;
  private byData = new Map<object, Map<string, Entry>>();
  private clock = 0;
  private counts = { bytes: 0, packs: 0, hits: 0, swept: 0, evicted: 0 };

  /**
   * The packed filters for (dataId, key), or null when the caller is to run
   * the one-call form this time (first use, caching off, too large).
   * `isLive` tells whether a data id's data still exists; `make` packs.
   */
  lookup(dataId: object, key: string, bytes: number, isLive: (id: object) => boolean, make: () => PreparedConvTranspose): PreparedConvTranspose | null {
    this.sweep(isLive);
    if (!this.enabled || bytes > this.maxBytes || !isLive(dataId)) return null;
    let keys = this.byData.get(dataId);
    if (!keys) {
      keys = new Map();
      this.byData.set(dataId, keys);
    }
    let e = keys.get(key);
    if (!e) {
      e = { key, uses: 0, op: null, bytes, lastUse: 0 };
      keys.set(key, e);
    }
    e.uses++;
    e.lastUse = ++this.clock;
    if (e.op) {
      this.counts.hits++;
      return e.op;
    }
    if (e.uses < 2) return null;
    this.evictFor(bytes);
    e.op = make();
    this.counts.bytes += bytes;
    this.counts.packs++;
    return e.op;
  }

  /** Frees the entries of a data id whose data was freed. */
  drop(dataId: object): void {
    const keys = this.byData.get(dataId);
    if (!keys) return;
    for (const e of keys.values()) {
      if (e.op) this.counts.swept++;
      this.free(e);
    }
    this.byData.delete(dataId);
  }

  /** Frees the entries of every data id that is no longer live. */
  sweep(isLive: (id: object) => boolean): void {
    for (const id of this.byData.keys()) if (!isLive(id)) this.drop(id);
  }

  /** Frees everything and starts the counts again. */
  clear(): void {
    for (const keys of this.byData.values()) for (const e of keys.values()) this.free(e);
    this.byData.clear();
    this.counts = { bytes: 0, packs: 0, hits: 0, swept: 0, evicted: 0 };
  }

  stats(): FilterCacheStats {
    let entries = 0;
    for (const keys of this.byData.values()) for (const e of keys.values()) if (e.op) entries++;
    const { bytes, packs, hits, swept, evicted } = this.counts;
    return { entries, bytes, packs, hits, swept, evicted };
  }

  private free(e: Entry): void {
    if (!e.op) return;
    e.op.dispose();
    e.op = null;
    this.counts.bytes -= e.bytes;
  }

  // Least recently used first, until `bytes` more fit.
  private evictFor(bytes: number): void {
    while (this.counts.bytes + bytes > this.maxBytes) {
      let oldest: Entry | null = null;
      for (const keys of this.byData.values()) {
        for (const e of keys.values()) if (e.op && (!oldest || e.lastUse < oldest.lastUse)) oldest = e;
      }
      if (!oldest) return;
      this.free(oldest);
      this.counts.evicted++;
    }
  }
}

/** The one cache of the process: the plug-in's kernels and convTranspose share it. */
export const filterCache = new FilterCache();

/** A tfjs tensor: has a data id (its storage) besides shape, dtype and dataSync(). */
export function isTfjsTensor(v: unknown): v is { dataId: object; shape: number[]; dtype: string; dataSync(): ArrayLike<number> } {
  return v !== null && typeof v === 'object' && typeof (v as any).dataSync === 'function' && (v as any).dataId !== null && typeof (v as any).dataId === 'object';
}

// tfjs's engine: the one registerTfjsKernels was given, else the one tfjs
// keeps on the global object (where every copy of tfjs-core puts it).
let registeredEngine: any = null;
export function setTfjsEngine(engine: any): void {
  registeredEngine = engine;
}
export function tfjsEngine(): any {
  return registeredEngine ?? (globalThis as any)._tfengine ?? null;
}

/** Whether tfjs still holds the data of a data id (false once the last tensor using it is disposed). */
export function isLiveData(id: object): boolean {
  const info = tfjsEngine()?.state?.tensorInfo;
  return !!info && info.has(id);
}
