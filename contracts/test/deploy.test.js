// The deploy script against a real local chain: `hardhat node` in a child process, JSON-RPC
// over HTTP, as the main command runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPublicClient, http } from 'viem';
import { artifact, root, proofFile } from './helpers.js';

const run = promisify(execFile);

/// Starts `hardhat node` on a free port; resolves once it answers.
async function hardhatNode() {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(path.join(root, 'node_modules/.bin/hardhat'), ['node', '--hostname', '127.0.0.1', '--port', String(port)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
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

    // Bad settings are clear errors, not stack traces.
    const bad = await run('node', [path.join(root, 'scripts/deploy.js')], { env: { ...env, MODEL_ID: 'xyz' } }).catch((e) => e);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /MODEL_ID must be/);
    const down = await run('node', [path.join(root, 'scripts/deploy.js')], { env: { ...env, RPC_URL: 'http://127.0.0.1:9' } }).catch((e) => e);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /no JSON-RPC endpoint answers/);
  } finally {
    node.stop();
  }
});
