// The prover's Web Worker: loads the wasm build, starts the rayon pool on every core, gets the
// proving key once per session — from the browser's key cache (IndexedDB) when an earlier
// session stored a valid one, else by key generation, then stored — and proves on request. The
// page's main thread never proves.
//
// Messages in:  { id, type: 'init', model? } | { id, type: 'prove', prompt, seed, minter }
// (`model`: the text of a model file the artist opened in the page, for a collection of
// private weights; it stays in this worker's memory and is never sent anywhere.)
// Messages out: { type: 'progress', phase, ms } | { id, ok: true, result } | { id, ok: false, error }
// Progress phases of init: wasm, download, keys:params, cache:read, keys:cache (reading the
// cached key) or keys:keygen (generating), keys:ready, cache:store.

import * as keyCache from './key-cache.js';

let wasm;
let memory;
let prover;
let ready;

async function loadWasm() {
  // Threads need SharedArrayBuffer, which only a cross-origin isolated page has; elsewhere
  // the single-threaded build of the same code runs.
  const threaded = self.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
  wasm = threaded ? await import('../../pkg/threads/section9.js') : await import('../../pkg/single/section9.js');
  ({ memory } = await wasm.default());
  if (threaded) await wasm.initThreadPool(navigator.hardwareConcurrency || 1);
  return { threaded, threads: wasm.proverThreads() };
}

async function fetchOk(url, kind) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load the ${kind} (${url}: HTTP ${response.status})`);
  return response;
}

async function init(artistModel) {
  const progress = (phase, ms) => self.postMessage({ type: 'progress', phase, ms });
  const started = performance.now();
  const { threaded, threads } = await loadWasm();
  progress('wasm', performance.now() - started);
  const manifest = await (await fetchOk('static/manifest.json', 'manifest')).json();
  const committed = manifest.weights === 'committed';
  if (committed && !artistModel) throw new Error('this collection\'s weights are private: open the model file first');
  const [model, params] = await Promise.all([
    committed ? artistModel : fetchOk('static/model.json', 'model').then((r) => r.text()),
    fetchOk('static/params.bin', 'proving parameters').then((r) => r.arrayBuffer()),
  ]);
  progress('download', performance.now() - started);
  const keyProgress = (phase, ms) => progress(`keys:${phase}`, ms);
  const setupStart = performance.now();
  const setup = new wasm.ProverSetup(model, new Uint8Array(params), manifest.width, manifest.lanes ?? 1, manifest.accumulators ?? 1, committed ? 'committed' : 'fixed', keyProgress);
  const digest = setup.digest();
  const readStart = performance.now();
  progress('cache:read', readStart - started);
  const cached = await keyCache.get(digest);
  const keyStart = performance.now();
  prover = setup.prover(cached ?? undefined, keyProgress);
  const keyEnd = performance.now();
  const keySource = prover.keySource();
  const keyRefused = prover.keyRefused() ?? null;
  if (keyRefused) console.warn(`proving-key cache: discarded the cached key (${keyRefused}); generated keys instead`);
  let keyBytes = cached?.length ?? null;
  let keyStored = false;
  if (keySource === 'generated' && (await keyCache.available())) {
    // Stored before the first proof: the worker is busy proving afterwards, and a returning
    // visitor should find the key even if this one leaves mid-proof. (Where there is no
    // IndexedDB the key is not even serialized: 100 MB of memory for nothing.)
    progress('cache:store', performance.now() - started);
    const file = prover.keyFile();
    keyBytes = file.length;
    keyStored = await keyCache.put(digest, file);
  }
  return {
    threaded,
    threads,
    k: prover.k(),
    digest,
    keySource,
    keyRefused,
    keyBytes,
    keyStored,
    // Params decode (and the circuit digest), common to both ways of getting the key.
    paramsMs: readStart - setupStart,
    // The IndexedDB read (a hit or a miss), then the key: read from the cached file, or generated.
    cacheReadMs: keyStart - readStart,
    keyLoadMs: keySource === 'cache' ? keyEnd - keyStart : null,
    keygenMs: keySource === 'generated' ? keyEnd - keyStart : null,
    keyStoreMs: keySource === 'generated' ? performance.now() - keyEnd : null,
    loadMs: performance.now() - started,
    wasmMemoryBytes: memory.buffer.byteLength,
  };
}

self.onmessage = async ({ data }) => {
  const { id, type } = data;
  try {
    if (type === 'init' && data.model) {
      // Another model file opened: a new prover for it.
      prover = null;
      ready = init(data.model);
      self.postMessage({ id, ok: true, result: await ready });
    } else if (type === 'init') {
      ready ??= init();
      self.postMessage({ id, ok: true, result: await ready });
    } else if (type === 'prove') {
      await (ready ??= init());
      const result = prover.prove(data.prompt, data.seed, data.minter, (phase, ms) =>
        self.postMessage({ type: 'progress', phase, ms }),
      );
      result.verified = prover.verify(result.instances, result.proof);
      result.wasmMemoryBytes = memory.buffer.byteLength;
      self.postMessage({ id, ok: true, result }, [result.rgb.buffer]);
    } else {
      throw new Error(`unknown request ${type}`);
    }
  } catch (e) {
    self.postMessage({ id, ok: false, error: e?.message ?? String(e) });
  }
};
