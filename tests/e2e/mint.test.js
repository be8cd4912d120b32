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
import { spawn, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createPublicClient, createWalletClient, http as httpTransport } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { isolationHeaders } from '../../webpack.config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);
const PROMPT = 'a small red fox asleep under a paper moon';
// Hardhat's third development account: a local chain's funded key, nothing else.
const WALLET_KEY = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';
const cleanup = [];
after(() => cleanup.reverse().forEach((f) => f()));

async function hardhatNode() {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const bin = path.join(root, 'contracts/node_modules/.bin/hardhat');
  const child = spawn(bin, ['node', '--hostname', '127.0.0.1', '--port', String(port)], { cwd: path.join(root, 'contracts') });
  cleanup.push(() => child.kill());
  await new Promise((resolve, reject) => {
    let log = '';
    child.stdout.on('data', (d) => { log += d; if (log.includes('Started HTTP')) resolve(); });
    child.on('exit', (code) => reject(new Error(`hardhat node exited (${code}): ${log}`)));
  });
  return `http://127.0.0.1:${port}`;
}

/// Serves web/dist at / and web/static at /static with the isolation headers.
async function servePage() {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml' };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x').pathname;
    const file = url.startsWith('/static/')
      ? path.join(root, 'web', url)
      : path.join(root, 'web/dist', url === '/' ? 'index.html' : url);
    if (!file.startsWith(path.join(root, 'web')) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404, isolationHeaders).end();
      return;
    }
    res.writeHead(200, { ...isolationHeaders, 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => server.close());
  return `http://127.0.0.1:${server.address().port}/`;
}

/// The latent the prompt maps to (crate/src/prompt.rs), to look for it on the wire.
function latentHex(prompt) {
  return createHash('sha256').update(Buffer.concat([Buffer.from('section9/latent/v1\0'), Buffer.from(prompt)])).digest('hex');
}

test('prompt → picture → threaded proof → wallet mint → on-chain token, in Chromium', { timeout: 600_000 }, async () => {
  const rpc = await hardhatNode();
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'web/static/manifest.json'), 'utf8'));
  await run('node', [path.join(root, 'contracts/scripts/deploy.js')], {
    env: { ...process.env, RPC_URL: rpc, MODEL_ID: manifest.model_id, OUT: path.join(root, 'web/static/deployment.json') },
  });
  const pageUrl = await servePage();

  // The wallet: accounts, chain id and signing here, everything else forwarded to the node.
  const account = privateKeyToAccount(WALLET_KEY);
  const node = createPublicClient({ transport: httpTransport(rpc) });
  const signer = createWalletClient({ account, transport: httpTransport(rpc), chain: { id: 31337, name: 'local', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [rpc] } } } });
  const walletCalls = [];
  async function wallet(method, params) {
    walletCalls.push(JSON.stringify({ method, params }));
    switch (method) {
      case 'eth_requestAccounts':
      case 'eth_accounts':
        return [account.address];
      case 'eth_chainId':
        return '0x7a69';
      case 'eth_sendTransaction': {
        const [tx] = params;
        return signer.sendTransaction({ to: tx.to, data: tx.data, value: tx.value ? BigInt(tx.value) : 0n, gas: tx.gas ? BigInt(tx.gas) : undefined });
      }
      default:
        return node.request({ method, params });
    }
  }

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-precise-memory-info'],
  });
  cleanup.push(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  const requests = [];
  const downloads = {};
  page.on('request', (r) => requests.push(`${r.method()} ${r.url()} ${r.postData() ?? ''}`));
  page.on('response', async (r) => {
    const name = path.basename(new URL(r.url()).pathname);
    if (/\.wasm$|params\.bin$/.test(name)) downloads[name] = (await r.body().catch(() => Buffer.alloc(0))).length;
  });
  await page.exposeFunction('__section9Wallet', async (method, params) => {
    try {
      return JSON.stringify({ result: await wallet(method, JSON.parse(params)) });
    } catch (e) {
      return JSON.stringify({ error: { code: e.code ?? -32603, message: e.shortMessage ?? e.message } });
    }
  });
  await page.addInitScript(() => {
    window.ethereum = {
      async request({ method, params }) {
        const reply = JSON.parse(await window.__section9Wallet(method, JSON.stringify(params ?? [])));
        if (reply.error) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
        return reply.result;
      },
      on() {},
      removeListener() {},
    };
  });

  const t0 = Date.now();
  await page.goto(pageUrl);
  assert.equal(await page.evaluate(() => self.crossOriginIsolated), true, 'the page must be cross-origin isolated');
  await page.waitForFunction(() => window.section9?.model);
  await page.fill('#prompt', PROMPT);
  const canvas = await page.evaluate(() => {
    const data = document.getElementById('art').getContext('2d').getImageData(0, 0, 32, 32).data;
    return Array.from({ length: 1024 * 3 }, (_, i) => data[Math.floor(i / 3) * 4 + (i % 3)]);
  });

  await page.click('#connect');
  await page.waitForFunction(() => window.section9.account && window.section9.chainOk);
  await page.waitForFunction(() => window.section9.prover, null, { timeout: 300_000 });
  const loadMs = Date.now() - t0;
  await page.click('#prove');
  await page.waitForFunction(() => window.section9.proof, null, { timeout: 300_000 });
  const prover = await page.evaluate(() => window.section9.prover);
  const proof = await page.evaluate(() => ({ ...window.section9.proof, rgb: Array.from(window.section9.proof.rgb) }));
  assert.ok(prover.threaded, 'the threaded build must run');
  assert.ok(prover.threads > 1, `the prover must use more than one thread (got ${prover.threads})`);
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
  await page.waitForFunction(() => window.section9.proof, null, { timeout: 300_000 });
  await page.click('#mint');
  await page.waitForFunction(() => /already minted/.test(document.getElementById('message').textContent));

  // Nothing that left the page — HTTP requests or wallet calls — carries the prompt or latent.
  const latent = latentHex(PROMPT);
  const secrets = [PROMPT, encodeURIComponent(PROMPT), latent, Buffer.from(latent, 'hex').toString('base64')];
  for (const line of [...requests, ...walletCalls]) {
    for (const s of secrets) assert.ok(!line.toLowerCase().includes(s.toLowerCase()), `a request carries the prompt or latent: ${line.slice(0, 200)}`);
  }
  assert.deepEqual(errors, []);

  const memory = await page.evaluate(() => ({ jsHeapBytes: performance.memory?.usedJSHeapSize ?? null }));
  const bench = {
    browser: await browser.version(),
    hardware_concurrency: await page.evaluate(() => navigator.hardwareConcurrency),
    threads: prover.threads,
    load_and_keygen_s: loadMs / 1000,
    keygen_s: prover.keygenMs / 1000,
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
