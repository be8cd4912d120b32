// A returning visitor does not generate keys again, in headless Chromium on a profile kept on
// disk: the first session generates the proving key and stores it in IndexedDB; the next
// session (a new browser process on the same profile) reads it and proves without key
// generation. A damaged entry — a flipped byte, a key for another circuit, truncated bytes — is
// refused, keys are generated again and stored over it, and the proof still verifies. Each
// proof is checked by the deployed contract's verifier (ERC-7007 `verify`), which knows nothing
// of the browser's keys. The key size and the times go to test-results/key-cache.json.
//
// Needs what mint.test.js needs; scripts/e2e.sh makes all of it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPublicClient, encodeAbiParameters, http, toHex } from 'viem';
import { start, openPage, openProfile, root, GAN } from './harness.js';

let env;
let session; // the browser session open on the profile
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'section9-profile-'));
after(async () => {
  await session?.close();
  env?.stop();
  fs.rmSync(profile, { recursive: true, force: true });
});

const slow = { timeout: 300_000, polling: 250 };

/// Opens the page and waits for the prover's setup; its report (`keySource`, times…).
async function load(page) {
  await page.waitForFunction(() => window.section9?.model, null, slow);
  await page.waitForFunction(() => window.section9.prover, null, slow);
  return page.evaluate(() => window.section9.prover);
}

/// Runs `body(db)` against the page's key cache (the worker's IndexedDB store) in the page.
function withStore(page, body, arg) {
  return page.evaluate(
    async ([source, arg]) => {
      const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open('section9', 1);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const request = (mode, f) =>
        new Promise((resolve, reject) => {
          const tx = db.transaction('proving-keys', mode);
          const r = f(tx.objectStore('proving-keys'));
          tx.oncomplete = () => resolve(r.result);
          tx.onabort = () => reject(tx.error);
        });
      try {
        return await new Function('request', 'arg', `return (${source})(request, arg)`)(request, arg);
      } finally {
        db.close();
      }
    },
    [body.toString(), arg],
  );
}

/// The SHA-256 (hex) and length of the cached entry for `digest`.
const entryHash = (page, digest) =>
  withStore(page, async (request, digest) => {
    const entry = await request('readonly', (s) => s.get(digest));
    if (!entry) return null;
    const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', entry.bytes));
    return { length: entry.bytes.length, sha256: Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('') };
  }, digest);

/// Replaces the cached entry's bytes by `damage(bytes)` (a function source run in the page).
const damageEntry = (page, digest, damage) =>
  withStore(page, async (request, { digest, damage }) => {
    const entry = await request('readonly', (s) => s.get(digest));
    const bytes = new Function('bytes', `return (${damage})(bytes)`)(entry.bytes.slice());
    await request('readwrite', (s) => s.put({ ...entry, bytes }, digest));
    return bytes.length;
  }, { digest, damage: damage.toString() });

/// Connects the wallet, proves `prompt` in the page and checks the proof with the deployed
/// contract, and that the contract refuses it with one byte flipped.
async function proveAndCheckOnChain(page, prompt) {
  await page.fill('#prompt', prompt);
  if (!(await page.evaluate(() => window.section9.account))) {
    await page.click('#connect');
    await page.waitForFunction(() => window.section9.account && window.section9.chainOk);
  }
  await page.evaluate(() => { window.section9.proof = null; });
  await page.click('#prove');
  await page.waitForFunction(() => window.section9.proof || /Proving failed/.test(document.getElementById('message').textContent), null, slow);
  const proof = await page.evaluate(() => window.section9.proof && { ...window.section9.proof, rgb: Array.from(window.section9.proof.rgb) });
  assert.ok(proof, `no proof: ${await page.textContent('#message')}`);
  assert.equal(proof.verified, true);
  const deployment = JSON.parse(fs.readFileSync(path.join(GAN, 'static/deployment.json'), 'utf8'));
  const chain = createPublicClient({ transport: http(env.rpc) });
  const statement = encodeAbiParameters([{ type: 'uint256' }, { type: 'uint256' }], [BigInt(proof.commitment), BigInt(proof.minter)]);
  const verify = (bytes) =>
    chain.readContract({ address: deployment.art, abi: deployment.abi, functionName: 'verify', args: [statement, toHex(Uint8Array.from(proof.rgb)), bytes] });
  assert.equal(await verify(proof.proof), true, 'the deployed verifier accepts the proof');
  const flipped = proof.proof.slice(0, 100) + (proof.proof[100] === '0' ? '1' : '0') + proof.proof.slice(101);
  assert.equal(await verify(flipped), false, 'the deployed verifier refuses it with a byte flipped');
  return proof;
}

test('a returning visitor proves with the proving key cached in IndexedDB; a damaged entry is regenerated', { timeout: 900_000 }, async () => {
  env = await start();

  // First session: no cache, keys generated and stored.
  session = await openProfile(profile);
  let { page, errors } = await openPage(env, { context: session });
  await page.goto(env.url);
  const first = await load(page);
  assert.equal(first.keySource, 'generated');
  assert.equal(first.keyRefused, null);
  assert.equal(first.keyStored, true, 'the key is stored in IndexedDB');
  assert.match(first.digest, /^[0-9a-f]{64}$/);
  const stored = await entryHash(page, first.digest);
  assert.equal(stored?.length, first.keyBytes);
  assert.match(await page.textContent('#prove-status'), /generated in .* kept in this browser/);
  assert.deepEqual(errors, []);
  await session.close();
  session = null;

  // Next session, a new browser process on the same profile: the key comes from the cache.
  session = await openProfile(profile);
  ({ page, errors } = await openPage(env, { context: session }));
  await page.goto(env.url);
  const second = await load(page);
  assert.equal(second.keySource, 'cache', 'the second session reads the cached key');
  assert.equal(second.keygenMs, null, 'no key generation');
  assert.equal(second.keyRefused, null);
  assert.equal(second.digest, first.digest);
  assert.equal(second.keyBytes, first.keyBytes);
  assert.match(await page.textContent('#prove-status'), /loaded from this browser's cache/);
  await proveAndCheckOnChain(page, 'a returning visitor, keys from the cache');

  // A flipped byte in the key: refused by its checksum, generated again, stored over it.
  await damageEntry(page, first.digest, (bytes) => { bytes[bytes.length >> 1] ^= 1; return bytes; });
  assert.notEqual((await entryHash(page, first.digest)).sha256, stored.sha256);
  await page.reload();
  const corrupted = await load(page);
  assert.equal(corrupted.keySource, 'generated');
  assert.match(corrupted.keyRefused ?? '', /truncated or corrupted/);
  assert.equal(corrupted.keyStored, true);
  // Key generation is deterministic: the entry is the first session's key again.
  assert.deepEqual(await entryHash(page, first.digest), stored);
  await proveAndCheckOnChain(page, 'a damaged cache entry, keys generated again');

  // A key file for another circuit (another digest in its header), and truncated bytes.
  const damages = [
    [(bytes) => { bytes[8] ^= 0xff; return bytes; }, /made for another circuit or SRS/],
    [(bytes) => bytes.slice(0, 1 << 20), /truncated or corrupted/],
  ];
  for (const [damage, reason] of damages) {
    await damageEntry(page, first.digest, damage);
    await page.reload();
    const refused = await load(page);
    assert.equal(refused.keySource, 'generated', String(damage));
    assert.match(refused.keyRefused ?? '', reason);
    assert.deepEqual(await entryHash(page, first.digest), stored);
  }
  // The refusals are console warnings, not errors.
  assert.deepEqual(errors, []);

  const bench = {
    browser: await env.browser.version(),
    key_file_bytes: first.keyBytes,
    params_decode_s: first.paramsMs / 1000,
    keygen_s: first.keygenMs / 1000,
    key_store_s: first.keyStoreMs / 1000,
    cache_read_s: second.cacheReadMs / 1000,
    key_load_s: second.keyLoadMs / 1000,
    cached_key_total_s: (second.cacheReadMs + second.keyLoadMs) / 1000,
    first_session_load_s: first.loadMs / 1000,
    returning_session_load_s: second.loadMs / 1000,
    wasm_memory_bytes_generated: first.wasmMemoryBytes,
    wasm_memory_bytes_cached: second.wasmMemoryBytes,
  };
  fs.mkdirSync(path.join(root, 'test-results'), { recursive: true });
  fs.writeFileSync(path.join(root, 'test-results/key-cache.json'), JSON.stringify(bench, null, 2) + '\n');
  console.log(JSON.stringify(bench, null, 2));
  await session.close();
  session = null;
});
