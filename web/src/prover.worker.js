// The prover's Web Worker: loads the wasm build, starts the rayon pool on every core, builds the
// proving key once per session and proves on request. The page's main thread never proves.
//
// Messages in:  { id, type: 'init' } | { id, type: 'prove', prompt, seed, minter }
// Messages out: { type: 'progress', phase, ms } | { id, ok: true, result } | { id, ok: false, error }

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

async function init() {
  const progress = (phase, ms) => self.postMessage({ type: 'progress', phase, ms });
  const started = performance.now();
  const { threaded, threads } = await loadWasm();
  progress('wasm', performance.now() - started);
  const manifest = await (await fetchOk('static/manifest.json', 'manifest')).json();
  const [model, params] = await Promise.all([
    fetchOk('static/model.json', 'model').then((r) => r.text()),
    fetchOk('static/params.bin', 'proving parameters').then((r) => r.arrayBuffer()),
  ]);
  progress('download', performance.now() - started);
  const keyStart = performance.now();
  prover = new wasm.Prover(model, new Uint8Array(params), manifest.width, (phase, ms) => progress(`keys:${phase}`, ms));
  return {
    threaded,
    threads,
    k: prover.k(),
    keygenMs: performance.now() - keyStart,
    loadMs: performance.now() - started,
    wasmMemoryBytes: memory.buffer.byteLength,
  };
}

self.onmessage = async ({ data }) => {
  const { id, type } = data;
  try {
    if (type === 'init') {
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
