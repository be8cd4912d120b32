// The deploy script against a real local chain: `hardhat node` in a child process, JSON-RPC
// over HTTP, as the main command runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPublicClient, createWalletClient, custom, http, keccak256 } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { artifact, root, proofFile } from './helpers.js';
import { isDevelopmentVerifier } from '../scripts/srs.js';
import { evmProblems, instructionsFor, PRECOMPILES } from '../scripts/preflight.js';

// Hardhat's funded development accounts #0 and #1 (public keys of every Hardhat chain).
const KEY_0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const KEY_1 = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const OP_SEPOLIA = 11155420;

const run = promisify(execFile);

/// Starts `hardhat node` on a free port (as chain `chainId`, at `hardfork` if given); resolves
/// once it answers.
async function hardhatNode(chainId = 31337, hardfork = undefined) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const env = { ...process.env, HARDHAT_CHAIN_ID: String(chainId), ...(hardfork ? { HARDHAT_HARDFORK: hardfork } : {}) };
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
    // A verifier of committed weights needs a commitment a proof can match.
    for (const commitment of [`0x${'0'.repeat(64)}`, '0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001']) {
      const { MODEL_ID: _, ...rest } = env;
      const refused = await run('node', [path.join(root, 'scripts/deploy.js')], { env: { ...rest, BUILD_DIR: 'build/committed', WEIGHT_COMMITMENT: commitment } }).catch((e) => e);
      assert.equal(refused.code, 1, commitment);
      assert.match(refused.stderr, /WEIGHT_COMMITMENT 0x[0-9a-f]{64} is not a commitment: it must be a nonzero BN254 scalar below r/);
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

test('a chain whose EVM is older than the contracts need is refused before anything is sent', { timeout: 120_000 }, async () => {
  // The collection contract is compiled for Cancun (OpenZeppelin 5 uses MCOPY), the verifier
  // for Paris.
  assert.equal(artifact('Section9Art').evmVersion, 'cancun');
  assert.equal(artifact('Halo2Verifier').evmVersion, 'paris');
  assert.deepEqual(instructionsFor('paris'), []);
  for (const [hardfork, missing] of [['shanghai', ['MCOPY \\(EIP-5656, Cancun\\)', 'TSTORE/TLOAD \\(EIP-1153, Cancun\\)']], ['merge', ['PUSH0 \\(EIP-3855, Shanghai\\)', 'MCOPY']]]) {
    const node = await hardhatNode(31337, hardfork);
    try {
      const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 's9-')), 'deployment.json');
      const env = { ...process.env, RPC_URL: node.url, OUT: out };
      const refused = await run('node', [path.join(root, 'scripts/deploy.js')], { env }).catch((e) => e);
      assert.equal(refused.code, 1, `a ${hardfork} chain must be refused`);
      assert.match(refused.stderr, /refusing to deploy to chain 31337 \(Section 9 local chain\); nothing was sent/);
      for (const m of missing) assert.match(refused.stderr, new RegExp(`the chain does not run ${m}.*which the collection contract \\(cancun\\) uses`));
      // Only the collection's instructions are missing: the verifier's precompiles are there.
      assert.doesNotMatch(refused.stderr, /precompile|the verifier \(/);
      assert.equal(fs.existsSync(out), false);
      const client = createPublicClient({ transport: http(node.url) });
      assert.equal(await client.getTransactionCount({ address: privateKeyToAccount(KEY_0).address }), 0, 'nothing was sent');
    } finally {
      node.stop();
    }
  }
});

test('a chain without a working BN254 precompile is named; a deployer who cannot pay is refused; a dry run sends nothing', { timeout: 120_000 }, async () => {
  const node = await hardhatNode(OP_SEPOLIA);
  try {
    // The real chain, every check passing.
    const real = createPublicClient({ transport: http(node.url) });
    assert.deepEqual(await evmProblems(real, { verifier: 'paris', collection: 'cancun' }), []);
    // The same chain as a chain without the pairing precompile answers (a call to an address
    // without code succeeds with no data) and one whose modexp fails.
    const altered = (answers) =>
      createPublicClient({
        transport: custom({
          async request({ method, params }) {
            const to = params?.[0]?.to?.toLowerCase();
            if (method === 'eth_call' && to in answers) {
              if (answers[to] instanceof Error) throw answers[to];
              return answers[to];
            }
            return real.request({ method, params });
          },
        }),
      });
    const [modexp, , , pairing] = PRECOMPILES.map((p) => p.address);
    assert.deepEqual(await evmProblems(altered({ [pairing]: '0x' }), { verifier: 'paris' }), [
      `the chain has no working BN254 pairing check (ecPairing) precompile at ${pairing} (EIP-197), which the verifier calls: a known input answered nothing`,
    ]);
    const [problem] = await evmProblems(altered({ [modexp]: new Error('out of gas') }), { verifier: 'paris' });
    assert.match(problem, /no working modexp precompile at 0x0+5 \(EIP-198\).*answered an error/);

    // An unfunded deployer: refused with what it holds and what deploying takes.
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 's9-')), 'deployment.json');
    const poor = generatePrivateKey();
    const env = { ...process.env, RPC_URL: node.url, BUILD_DIR: 'build/imported', OUT: out };
    const refused = await run('node', [path.join(root, 'scripts/deploy.js')], { env: { ...env, PRIVATE_KEY: poor } }).catch((e) => e);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /nothing was sent:\n  - the deployer 0x[0-9a-fA-F]{40} holds 0 ETH, and deploying takes about [0-9.]+ ETH \([0-9,]+ gas at [0-9.]+ gwei\): fund it/);
    assert.equal(await real.getTransactionCount({ address: privateKeyToAccount(poor).address }), 0);

    // A dry run: every check, the cost, nothing sent, no deployment file.
    const { stdout } = await run('node', [path.join(root, 'scripts/deploy.js')], { env: { ...env, PRIVATE_KEY: KEY_1, DRY_RUN: '1' } });
    assert.match(stdout, /checked: the chain runs both contracts' code and the verifier's precompiles; about [0-9,]+ gas for Halo2Verifier, Section9Art/);
    assert.match(stdout, /dry run: nothing was sent/);
    assert.equal(fs.existsSync(out), false);
    assert.equal(await real.getTransactionCount({ address: privateKeyToAccount(KEY_1).address }), 0);
  } finally {
    node.stop();
  }
});
