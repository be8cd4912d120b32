// The deploy script against a real local chain: `hardhat node` in a child process, JSON-RPC
// over HTTP, as the main command runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPublicClient, createWalletClient, http, keccak256 } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { artifact, root, proofFile } from './helpers.js';
import { isDevelopmentVerifier } from '../scripts/srs.js';

// Hardhat's funded development accounts #0 and #1 (public keys of every Hardhat chain).
const KEY_0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const KEY_1 = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const OP_SEPOLIA = 11155420;

const run = promisify(execFile);

/// Starts `hardhat node` on a free port (as chain `chainId`); resolves once it answers.
async function hardhatNode(chainId = 31337) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const env = { ...process.env, HARDHAT_CHAIN_ID: String(chainId) };
  const child = spawn(path.join(root, 'node_modules/.bin/hardhat'), ['node', '--hostname', '127.0.0.1', '--port', String(port)], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`hardhat node did not start:\n${log}`)), 60000);
    child.stdout.on('data', (d) => {
      log += d;
      if (log.includes('Started HTTP')) { clearTimeout(timer); resolve(); }
    });
    child.on('exit', (code) => reject(new Error(`hardhat node exited (${code}):\n${log}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

test('deploy.js deploys both contracts to a local chain and writes their addresses', async () => {
  const node = await hardhatNode();
  try {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 's9-')), 'deployment.json');
    const modelId = proofFile('alice').model_id;
    const env = { ...process.env, RPC_URL: node.url, MODEL_ID: modelId, OUT: out };
    const { stdout } = await run('node', [path.join(root, 'scripts/deploy.js')], { env });
    assert.match(stdout, /Section9Art/);
    const d = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.equal(d.chainId, 31337);
    assert.equal(d.modelId, `0x${modelId}`);
    const client = createPublicClient({ transport: http(node.url) });
    assert.equal(await client.getCode({ address: d.verifier }), artifact('Halo2Verifier').deployedBytecode);
    const abi = artifact('Section9Art').abi;
    assert.equal((await client.readContract({ address: d.art, abi, functionName: 'verifier' })).toLowerCase(), d.verifier.toLowerCase());
    assert.equal(await client.readContract({ address: d.art, abi, functionName: 'modelId' }), `0x${modelId}`);
    // The default collection: "Section 9" (S9), 32×32, 5 % to the deployer.
    const deployer = privateKeyToAccount(KEY_0).address;
    assert.deepEqual([d.name, d.symbol, d.width, d.height, d.royalty], ['Section 9', 'S9', 32, 32, { receiver: deployer, bps: 500 }]);
    assert.deepEqual(await client.readContract({ address: d.art, abi, functionName: 'royaltyInfo', args: [1n, 10000n] }), [deployer, 500n]);

    // A collection of its own: every setting reaches the contract and the deployment file.
    const artist = privateKeyToAccount(KEY_1).address;
    // (The picture size must be the verifier's, which its header states: 32×32 here.)
    const custom = { NAME: 'Ghost "Shell"', SYMBOL: 'GIS', ROYALTY_RECEIVER: artist.toLowerCase(), ROYALTY_BPS: '250', WIDTH: '32', HEIGHT: '32' };
    await run('node', [path.join(root, 'scripts/deploy.js')], { env: { ...env, ...custom } });
    const c = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.deepEqual([c.name, c.symbol, c.width, c.height, c.royalty], ['Ghost "Shell"', 'GIS', 32, 32, { receiver: artist, bps: 250 }]);
    const read = (functionName, args = []) => client.readContract({ address: c.art, abi, functionName, args });
    assert.deepEqual([await read('name'), await read('symbol'), await read('width'), await read('height')], ['Ghost "Shell"', 'GIS', 32n, 32n]);
    assert.deepEqual(await read('royaltyInfo', [7n, 1000n]), [artist, 25n]);

    // Bad settings are clear errors, not stack traces.
    const bad = await run('node', [path.join(root, 'scripts/deploy.js')], { env: { ...env, MODEL_ID: 'xyz' } }).catch((e) => e);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /MODEL_ID must be/);
    for (const [settings, message] of [
      [{ ROYALTY_BPS: '10001' }, /ROYALTY_BPS must be a whole number from 0 to 10000/],
      [{ ROYALTY_BPS: '2.5' }, /ROYALTY_BPS must be/],
      [{ ROYALTY_RECEIVER: '0x1234' }, /ROYALTY_RECEIVER must be a nonzero 0x address/],
      [{ ROYALTY_RECEIVER: `0x${'0'.repeat(40)}` }, /ROYALTY_RECEIVER must be a nonzero/],
      [{ WIDTH: '0' }, /WIDTH must be a whole number from 1/],
      [{ WIDTH: '91', HEIGHT: '90' }, /a 91×90 picture is over the contract's 8100 pixels/],
      [{ WIDTH: '16' }, /WIDTH 16 is not the picture width the verifier was generated for \(32\)/],
      [{ HEIGHT: '24' }, /HEIGHT 24 is not the picture height the verifier was generated for \(32\)/],
      [{ NAME: '' }, /NAME and SYMBOL must not be empty/],
    ]) {
      const refused = await run('node', [path.join(root, 'scripts/deploy.js')], { env: { ...env, ...settings } }).catch((e) => e);
      assert.equal(refused.code, 1, JSON.stringify(settings));
      assert.match(refused.stderr, message);
    }
    const down = await run('node', [path.join(root, 'scripts/deploy.js')], { env: { ...env, RPC_URL: 'http://127.0.0.1:9' } }).catch((e) => e);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /no JSON-RPC endpoint answers/);
  } finally {
    node.stop();
  }
});

test('the development verifier is recognised, by its header and by its bytecode alone', () => {
  const dev = artifact('Halo2Verifier');
  const imported = artifact('Halo2Verifier', 'build/imported');
  assert.match(dev.header.srs, /^development/);
  assert.match(imported.header.srs, /^imported/);
  assert.equal(isDevelopmentVerifier(dev), true);
  assert.equal(isDevelopmentVerifier({ ...dev, header: {} }), true, 'a stripped header must not hide the development SRS');
  assert.equal(isDevelopmentVerifier(imported), false);
  assert.notEqual(dev.header['srs-fingerprint'], imported.header['srs-fingerprint']);
});

test('off the local chain: the development verifier is refused; imported params deploy and mint', { timeout: 300_000 }, async () => {
  const node = await hardhatNode(OP_SEPOLIA);
  try {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 's9-')), 'deployment.json');
    const env = { ...process.env, RPC_URL: node.url, PRIVATE_KEY: KEY_1, OUT: out };
    const script = path.join(root, 'scripts/deploy.js');

    const refused = await run('node', [script], { env }).catch((e) => e);
    assert.equal(refused.code, 1, 'the development verifier must not deploy to chain 11155420');
    assert.match(refused.stderr, /refusing to deploy a verifier of the INSECURE development SRS to chain 11155420/);
    assert.equal(fs.existsSync(out), false);
    const client = createPublicClient({ transport: http(node.url) });
    assert.equal(await client.getTransactionCount({ address: privateKeyToAccount(KEY_1).address }), 0, 'nothing was sent');

    // Hardhat's key 0 is public: refused off the local chain even for a real verifier.
    const publicKey = await run('node', [script], { env: { ...env, BUILD_DIR: 'build/imported', PRIVATE_KEY: KEY_0 } }).catch((e) => e);
    assert.equal(publicKey.code, 1);
    assert.match(publicKey.stderr, /Hardhat's public development key/);

    const { stdout } = await run('node', [script], { env: { ...env, BUILD_DIR: 'build/imported' } });
    assert.match(stdout, /OP Sepolia/);
    const d = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.equal(d.chainId, OP_SEPOLIA);
    assert.equal(d.chainName, 'OP Sepolia');
    assert.equal(d.devSrs, false);
    assert.equal(d.srsFingerprint, artifact('Halo2Verifier', 'build/imported').header['srs-fingerprint']);
    assert.equal(await client.getCode({ address: d.verifier }), artifact('Halo2Verifier', 'build/imported').deployedBytecode);

    // A proof made with the imported params (for account #0) mints on that chain.
    const p = proofFile('alice', 'generated/imported');
    const chain = { id: OP_SEPOLIA, name: 'OP Sepolia', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [node.url] } } };
    const alice = createWalletClient({ account: privateKeyToAccount(KEY_0), chain, transport: http(node.url) });
    assert.equal(alice.account.address, p.minter);
    const packed = await client.readContract({ address: d.art, abi: d.abi, functionName: 'pack', args: [p.image] });
    const hash = await alice.writeContract({ address: d.art, abi: d.abi, functionName: 'mint', args: [packed, p.commitment, p.proof] });
    const receipt = await client.waitForTransactionReceipt({ hash });
    assert.equal(receipt.status, 'success');
    assert.equal(await client.readContract({ address: d.art, abi: d.abi, functionName: 'tokenOfImage', args: [keccak256(p.image)] }), 1n);

    // A development-SRS proof of the same statement shape does not verify there.
    const dev = proofFile('bob');
    const devPacked = await client.readContract({ address: d.art, abi: d.abi, functionName: 'pack', args: [dev.image] });
    const bob = createWalletClient({ account: privateKeyToAccount(KEY_1), chain, transport: http(node.url) });
    await assert.rejects(bob.writeContract({ address: d.art, abi: d.abi, functionName: 'mint', args: [devPacked, dev.commitment, dev.proof] }), /InvalidProof|reverted/);
  } finally {
    node.stop();
  }
});
