// What the browser tests share: a `hardhat node` with the contracts deployed, the built page
// served (with or without the cross-origin isolation headers), headless Chromium, and a wallet
// injected into the page as an EIP-1193 provider that signs with a local-chain account.
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createPublicClient, createWalletClient, http as httpTransport } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { isolationHeaders } from '../../webpack.config.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);
// Hardhat's third development account: a local chain's funded key, nothing else.
const WALLET_KEY = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';

/// The collections scripts/e2e.sh makes with `section9 collection new`: the committed generator
/// and a second one unlike it (model/sprite: upsampling + convolutions, 16×16 grey).
export const GAN = path.join(root, 'target/e2e/gan');
export const SPRITE = path.join(root, 'target/e2e/sprite');
/// The same generator as a collection of private weights (`collection new --private-weights`).
export const PRIVATE_SPRITE = path.join(root, 'target/e2e/sprite-private');

const LAUNCH = {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-precise-memory-info'],
};
const VIEWPORT = { width: 1100, height: 900 };

/// A browser session on a profile directory (IndexedDB and the rest kept on disk, unlike the
/// throwaway contexts of `browser.newPage`): close it and open `dir` again for the same
/// visitor's next session. Pass it to `openPage` as `context`.
export function openProfile(dir) {
  return chromium.launchPersistentContext(dir, { ...LAUNCH, viewport: VIEWPORT });
}

/// Starts what a test needs for `collection` (deployed from its build/ with its settings, its
/// static/ served as the page's /static); `stop()` ends all of it.
export async function start({ isolated = true, collection = GAN } = {}) {
  const stops = [];
  const stop = () => stops.reverse().forEach((f) => f());
  try {
    const rpc = await hardhatNode(stops);
    await deploy(rpc, collection, path.join(collection, 'static/deployment.json'));
    const url = await servePage(stops, isolated ? isolationHeaders : {}, path.join(collection, 'static'));
    const browser = await chromium.launch(LAUNCH);
    stops.push(() => browser.close());
    return { rpc, url, browser, stop };
  } catch (e) {
    stop();
    throw e;
  }
}

/// Deploys `collection` (its verifier and art contract, from its build/ with its settings, any
/// of them overridden by `env`) to the chain at `rpc`; writes the deployment to `out`.
export async function deploy(rpc, collection, out, env = {}) {
  const settings = JSON.parse(fs.readFileSync(path.join(collection, 'collection.json'), 'utf8'));
  await run('node', [path.join(root, 'contracts/scripts/deploy.js')], {
    env: {
      ...process.env,
      RPC_URL: rpc,
      BUILD_DIR: path.join(collection, 'build'),
      MODEL_ID: settings.model_id,
      NAME: settings.name,
      SYMBOL: settings.symbol,
      ROYALTY_BPS: String(settings.royalty_bps),
      ...(settings.weight_commitment ? { WEIGHT_COMMITMENT: settings.weight_commitment } : {}),
      OUT: out,
      ...env,
    },
  });
  return JSON.parse(fs.readFileSync(out, 'utf8'));
}

async function hardhatNode(stops) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const bin = path.join(root, 'contracts/node_modules/.bin/hardhat');
  const child = spawn(bin, ['node', '--hostname', '127.0.0.1', '--port', String(port)], { cwd: path.join(root, 'contracts') });
  stops.push(() => child.kill());
  await new Promise((resolve, reject) => {
    let log = '';
    child.stdout.on('data', (d) => { log += d; if (log.includes('Started HTTP')) resolve(); });
    child.on('exit', (code) => reject(new Error(`hardhat node exited (${code}): ${log}`)));
  });
  return `http://127.0.0.1:${port}`;
}

/// Serves web/dist at / and the collection's static files at /static.
async function servePage(stops, headers, staticDir) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml' };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x').pathname;
    const [base, file] = url.startsWith('/static/')
      ? [staticDir, path.join(staticDir, url.slice('/static/'.length))]
      : [path.join(root, 'web/dist'), path.join(root, 'web/dist', url === '/' ? 'index.html' : url)];
    if (!file.startsWith(base) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  stops.push(() => server.close());
  return `http://127.0.0.1:${server.address().port}/`;
}

/// A page with a wallet: `behaviour` may override any JSON-RPC method (e.g. to reject, or to
/// report another chain). Records every wallet call and every page error. The page opens in a
/// fresh context of `env.browser`, or in `context` (an `openProfile` session).
export async function openPage(env, { wallet = true, behaviour = {}, context = null } = {}) {
  const account = privateKeyToAccount(WALLET_KEY);
  const chain = { id: 31337, name: 'local', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [env.rpc] } } };
  const node = createPublicClient({ transport: httpTransport(env.rpc) });
  const signer = createWalletClient({ account, transport: httpTransport(env.rpc), chain });
  const calls = [];
  const errors = [];
  async function handle(method, params) {
    calls.push(JSON.stringify({ method, params }));
    if (behaviour[method]) return behaviour[method](params);
    switch (method) {
      case 'eth_requestAccounts':
      case 'eth_accounts':
        return [account.address];
      case 'eth_chainId':
        return '0x7a69';
      case 'eth_sendTransaction': {
        // Sign here and send the raw transaction, exactly as a wallet does.
        const [tx] = params;
        return signer.sendTransaction({ to: tx.to, data: tx.data, value: tx.value ? BigInt(tx.value) : 0n, gas: tx.gas ? BigInt(tx.gas) : undefined });
      }
      default:
        return node.request({ method, params });
    }
  }
  const page = context ? await context.newPage() : await env.browser.newPage({ viewport: VIEWPORT });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  if (wallet) {
    await page.exposeFunction('__section9Wallet', async (method, params) => {
      try {
        return JSON.stringify({ result: await handle(method, JSON.parse(params)) });
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
  }
  return { page, account, calls, errors };
}

/// An EIP-1193 error, as a wallet raises it.
export function walletError(code, message) {
  return Object.assign(new Error(message), { code });
}
