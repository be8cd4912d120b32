// The whole mint flow in headless Chromium (Debian's, driven by playwright-core): a local chain
// (`hardhat node`) with the contracts deployed, the built page served with the isolation
// headers, a wallet injected into the page (EIP-1193) that signs with a local-chain account
// exactly as a wallet would. Prompt → picture → threaded proof in the worker → mint → the token
// rendered from its tokenURI. Also the browser benchmark: timings, memory and download sizes
// go to $BENCH_OUT (default test-results/browser.json).
//
// Needs: web/dist (npm run build), web/static (section9 export-web), pkg/ (scripts/wasm.sh),
// contracts/build (npm --prefix contracts run build). scripts/e2e.sh does all of it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { start, openPage, root } from './harness.js';

const PROMPT = 'a small red fox asleep under a paper moon';
let env;
after(() => env?.stop());

/// The noise part of the latent the prompt and seed map to (its first 23 values; the last 9 are
/// the prompt words' condition: crate/src/prompt.rs), to look for it on the wire.
function latentHex(prompt, seed) {
  return createHash('sha256').update(Buffer.concat([Buffer.from('section9/latent/v2\0'), Buffer.from(seed.slice(2), 'hex'), Buffer.from(prompt)])).digest('hex').slice(0, 46);
}

test('prompt → picture → threaded proof → wallet mint → on-chain token, in Chromium', { timeout: 600_000 }, async () => {
  env = await start();
  const { page, account, calls: walletCalls, errors } = await openPage(env);
  const requests = [];
  const downloads = {};
  page.on('request', (r) => requests.push(`${r.method()} ${r.url()} ${r.postData() ?? ''}`));
  page.on('response', async (r) => {
    const name = path.basename(new URL(r.url()).pathname);
    if (/\.wasm$|params\.bin$/.test(name)) downloads[name] = (await r.body().catch(() => Buffer.alloc(0))).length;
  });
  const t0 = Date.now();
  await page.goto(env.url);
  assert.equal(await page.evaluate(() => self.crossOriginIsolated), true, 'the page must be cross-origin isolated');
  await page.waitForFunction(() => window.section9?.model);
  await page.fill('#prompt', PROMPT);
  // The page says which words steer the picture (the model's own vocabulary).
  const steering = await page.textContent('#words-line');
  assert.match(steering, /^Steered by: .*\bfox\b/, steering);
  assert.match(steering, /\bmoon\b/, steering);
  const pixels = () => page.evaluate(() => {
    const data = document.getElementById('art').getContext('2d').getImageData(0, 0, 32, 32).data;
    return Array.from({ length: 1024 * 3 }, (_, i) => data[Math.floor(i / 3) * 4 + (i % 3)]);
  });
  // Another variation: the same prompt, another secret seed, another picture.
  const first = await pixels();
  await page.click('#variation');
  const canvas = await pixels();
  assert.notDeepEqual(canvas, first, 'another seed draws another picture');
  assert.equal(await page.inputValue('#prompt'), PROMPT);

  await page.click('#connect');
  await page.waitForFunction(() => window.section9.account && window.section9.chainOk);
  // Waits on the prover poll on a timer: Playwright's default polls every animation frame,
  // which keeps the page repainting and takes CPU from the prover threads being measured.
  const slow = { timeout: 300_000, polling: 250 };
  await page.waitForFunction(() => window.section9.prover, null, slow);
  const loadMs = Date.now() - t0;
  await page.click('#prove');
  await page.waitForFunction(() => window.section9.proof, null, slow);
  const prover = await page.evaluate(() => window.section9.prover);
  const proof = await page.evaluate(() => ({ ...window.section9.proof, rgb: Array.from(window.section9.proof.rgb) }));
  assert.ok(prover.threaded, 'the threaded build must run');
  assert.ok(prover.threads > 1, `the prover must use more than one thread (got ${prover.threads})`);
  assert.equal(prover.keySource, 'generated', 'a fresh browser context has no cached key');
  assert.deepEqual(proof.rgb, canvas, 'the proof is for the picture on the canvas');
  assert.equal(proof.minter.toLowerCase(), account.address.toLowerCase());

  await page.click('#mint');
  await page.waitForFunction(() => window.section9.minted, null, { timeout: 120_000 });
  const minted = await page.evaluate(() => window.section9.minted);
  assert.deepEqual(minted.rgb, canvas, 'the token, rendered from its on-chain tokenURI, is the generated picture');
  await page.waitForSelector('#gallery img');
  fs.mkdirSync(path.join(root, 'test-results'), { recursive: true });
  await page.screenshot({ path: path.join(root, 'test-results/mint-page.png'), fullPage: true });

  // Minting the same picture again is refused with a clear message.
  await page.evaluate(() => { window.section9.minted = null; window.section9.proof = null; });
  await page.click('#prove');
  await page.waitForFunction(() => window.section9.proof, null, slow);
  await page.click('#mint');
  await page.waitForFunction(() => /already minted/.test(document.getElementById('message').textContent));

  // Nothing that left the page — HTTP requests or wallet calls — carries the prompt or latent.
  // The page keeps the prompt and the seed in its local store (the artist's backup), and nowhere
  // a script can read them: not on its global.
  const kept = await page.evaluate(() => JSON.parse(localStorage.getItem('section9.secrets')));
  const secret = kept.find((s) => s.commitment === proof.commitment);
  assert.equal(secret.prompt, PROMPT);
  assert.match(secret.seed, /^0x[0-9a-f]{64}$/);
  const global = await page.evaluate(() => JSON.stringify(window.section9));
  assert.ok(!global.includes(PROMPT) && !global.includes(secret.seed.slice(2)), 'window.section9 must not expose the prompt or seed');
  const latent = latentHex(PROMPT, secret.seed);
  const secrets = [PROMPT, encodeURIComponent(PROMPT), secret.seed.slice(2), latent, Buffer.from(latent, 'hex').toString('base64')];
  for (const line of [...requests, ...walletCalls]) {
    for (const s of secrets) assert.ok(!line.toLowerCase().includes(s.toLowerCase()), `a request carries the prompt or latent: ${line.slice(0, 200)}`);
  }
  assert.deepEqual(errors, []);

  const memory = await page.evaluate(() => ({ jsHeapBytes: performance.memory?.usedJSHeapSize ?? null }));
  const bench = {
    browser: await env.browser.version(),
    hardware_concurrency: await page.evaluate(() => navigator.hardwareConcurrency),
    threads: prover.threads,
    load_and_keygen_s: loadMs / 1000,
    params_decode_s: prover.paramsMs / 1000,
    keygen_s: prover.keygenMs / 1000,
    key_store_s: prover.keyStoreMs / 1000,
    key_stored: prover.keyStored,
    key_file_bytes: prover.keyBytes,
    prove_s: proof.prove_ms / 1000,
    wasm_memory_bytes: proof.wasmMemoryBytes,
    js_heap_bytes: memory.jsHeapBytes,
    download_bytes: downloads,
    first_load_bytes: Object.values(downloads).reduce((a, b) => a + b, 0),
  };
  const out = process.env.BENCH_OUT ?? path.join(root, 'test-results/browser.json');
  fs.writeFileSync(out, JSON.stringify(bench, null, 2) + '\n');
  console.log(JSON.stringify(bench, null, 2));
});
