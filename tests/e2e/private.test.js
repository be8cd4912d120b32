// A collection of private weights, end to end: `collection new --private-weights` (the sprite
// generator), deployed with the artist's weight commitment. Its page files hold the model's
// shape only (every learned weight zero), so no weight is ever served; the page shows the
// gallery, says who can mint and starts no prover. The artist mints with the CLI and the model
// file, then in the page: a model file with other weights is refused, the collection's own is
// opened locally, proved in the worker and minted through the wallet, and no request carries
// the weights. A collection whose contract registered another commitment: the page reads it
// from the chain and refuses the artist's model before proving, and the contract refuses the
// page's proof.
//
// Needs target/e2e/sprite-private (scripts/e2e.sh makes it), web/dist and pkg/.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ContractFunctionRevertedError, createPublicClient, createWalletClient, http, toHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { start, deploy, openPage, root, PRIVATE_SPRITE } from './harness.js';

// Hardhat's account 0: the artist, who deployed the collection and holds the model file.
const ARTIST_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
let env;
after(() => env?.stop());

const learnedWeights = (file) => JSON.parse(fs.readFileSync(file, 'utf8')).graph.nodes.flatMap((n) => n.op.Linear?.weights ?? []);

test('private weights: the page serves the shape only and says who can mint; the artist mints from the CLI and from the page with the model file opened locally', { timeout: 600_000 }, async () => {
  env = await start({ collection: PRIVATE_SPRITE });
  const settings = JSON.parse(fs.readFileSync(path.join(PRIVATE_SPRITE, 'collection.json'), 'utf8'));
  assert.equal(settings.weights, 'committed');
  assert.match(settings.weight_commitment, /^0x[0-9a-f]{64}$/);
  assert.ok(learnedWeights(path.join(PRIVATE_SPRITE, 'static/model.json')).every((w) => w === 0), 'the page\'s model file holds no weight');
  assert.ok(learnedWeights(path.join(PRIVATE_SPRITE, 'model.s9')).some((w) => w !== 0), 'the artist\'s model file does');

  const deployment = JSON.parse(fs.readFileSync(path.join(PRIVATE_SPRITE, 'static/deployment.json'), 'utf8'));
  const reader = createPublicClient({ transport: http(env.rpc) });
  const read = (functionName, args = []) => reader.readContract({ address: deployment.art, abi: deployment.abi, functionName, args });
  assert.equal(await read('weightCommitment'), BigInt(settings.weight_commitment), 'the collection registered the artist\'s commitment');

  const { page, errors } = await openPage(env);
  await page.goto(env.url);
  await page.waitForFunction(() => window.section9?.model);
  assert.match(await page.textContent('#model-line'), /^Private Sprites · model [0-9a-f]{16}… · 16×16 · k = \d+ · private weights$/);
  await page.waitForFunction(() => document.getElementById('prove-status').textContent.includes('holder'));
  assert.equal(await page.isDisabled('#prove'), true, 'no prover, no proving');
  assert.match(await page.textContent('#message'), /^Only the holder of this collection's model can mint: its weights are private, committed to 0x/);
  await page.waitForFunction(() => document.getElementById('gallery').textContent === 'Nothing minted yet.');

  // The artist: a proof from the model file, for the artist's address, minted directly.
  const artist = privateKeyToAccount(ARTIST_KEY);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'section9-private-'));
  const proofPath = path.join(dir, 'proof.json');
  await promisify(execFile)(path.join(root, 'target/debug/section9'), [
    'prove', '--params', path.join(root, 'target/ptau/mint.srs'), '--weights', 'committed', '--model', path.join(PRIVATE_SPRITE, 'model.s9'),
    '--prompt', 'a lantern in the fog', '--minter', artist.address, '--out', proofPath, '--keys-dir', path.join(dir, 'keys'),
  ], { cwd: root });
  const proof = JSON.parse(fs.readFileSync(proofPath, 'utf8'));
  assert.equal(proof.weights, settings.weight_commitment, 'the proof is for the registered commitment');
  const image = `0x${proof.picture.rgb}`;
  const packed = await read('pack', [image]);
  const chain = { id: 31337, name: 'local', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [env.rpc] } } };
  const wallet = createWalletClient({ account: artist, transport: http(env.rpc), chain });
  const hash = await wallet.writeContract({ address: deployment.art, abi: deployment.abi, functionName: 'mint', args: [packed, BigInt(proof.commitment), proof.proof] });
  assert.equal((await reader.waitForTransactionReceipt({ hash })).status, 'success');
  assert.equal((await read('ownerOf', [1n])).toLowerCase(), artist.address.toLowerCase());

  await page.reload();
  await page.waitForFunction(() => document.querySelectorAll('#gallery figure').length === 1, null, { timeout: 60_000 });
  assert.equal(await page.textContent('#gallery figcaption'), '#1');

  // The artist in the page. Every request from here on is recorded.
  const requests = [];
  page.on('request', (r) => requests.push(`${r.method()} ${r.url()} ${r.postData() ?? ''}`));
  // A model file with one weight changed: the shape is the collection's, the weights are not.
  const modelPath = path.join(PRIVATE_SPRITE, 'model.s9');
  const other = JSON.parse(fs.readFileSync(modelPath, 'utf8'));
  const linear = other.graph.nodes.find((n) => n.op.Linear?.weights.some((w) => w !== 0)).op.Linear;
  const at = linear.weights.findIndex((w) => w !== 0);
  linear.weights[at] += linear.weights[at] > 0 ? -1 : 1;
  const otherPath = path.join(dir, 'other.s9');
  fs.writeFileSync(otherPath, JSON.stringify(other));
  await page.setInputFiles('#model-file', otherPath);
  await page.waitForFunction(() => document.getElementById('message').textContent.includes('holds other weights than this collection\'s'));
  assert.ok(!(await page.evaluate(() => window.section9.prover)), 'no prover for other weights');
  // The collection's own model: proved in the worker, minted through the wallet.
  await page.setInputFiles('#model-file', modelPath);
  const slow = { timeout: 300_000, polling: 250 };
  await page.waitForFunction(() => window.section9.prover, null, slow);
  await page.click('#connect');
  await page.waitForFunction(() => window.section9.account && window.section9.chainOk);
  await page.fill('#prompt', 'a harbour at night');
  await page.click('#prove');
  await page.waitForFunction(() => window.section9.proof, null, slow);
  const made = await page.evaluate(() => ({ ...window.section9.proof, rgb: Array.from(window.section9.proof.rgb) }));
  assert.equal(made.weights, settings.weight_commitment, 'the page proves for the registered commitment');
  await page.click('#mint');
  await page.waitForFunction(() => window.section9.minted, null, { timeout: 120_000 });
  assert.equal(await read('totalSupply'), 2n);
  await page.waitForFunction(() => document.querySelectorAll('#gallery figure').length === 2, null, { timeout: 60_000 });

  // The weights never left the page: no request carries any run of them, as JSON or as bytes.
  const weights = JSON.stringify(JSON.parse(fs.readFileSync(modelPath, 'utf8')).graph.nodes.find((n) => n.op.Linear?.weights.some((w) => w !== 0)).op.Linear.weights);
  const needles = [weights.slice(1, 41), Buffer.from(weights.slice(1, 41)).toString('hex')];
  for (const r of requests) for (const n of needles) assert.ok(!r.includes(n), `a request carries the weights: ${r.slice(0, 200)}`);
  assert.ok(requests.some((r) => r.startsWith('POST') && r.includes('eth_call')), 'the recorder saw the page\'s chain reads');
  assert.deepEqual(errors, []);

  // The same page files in front of a contract that registered another commitment (a field
  // element one off the artist's): the page reads the registration and refuses before proving.
  const registered = BigInt(settings.weight_commitment);
  const wrong = registered > 1n ? registered - 1n : registered + 1n;
  const elsewhere = await deploy(env.rpc, PRIVATE_SPRITE, path.join(dir, 'deployment.json'), { WEIGHT_COMMITMENT: `0x${wrong.toString(16).padStart(64, '0')}` });
  assert.equal(await reader.readContract({ address: elsewhere.art, abi: elsewhere.abi, functionName: 'weightCommitment' }), wrong);
  /// The page's files in front of `deployed`, the artist's model file opened: resolves once the
  /// page says something starting with `message`.
  const openedBefore = async (deployed, message) => {
    const opened = await openPage(env);
    await opened.page.route('**/static/deployment.json', (route) => route.fulfill({ json: deployed }));
    await opened.page.goto(env.url);
    await opened.page.waitForFunction(() => window.section9?.model);
    await opened.page.setInputFiles('#model-file', modelPath);
    await opened.page.waitForFunction((m) => document.getElementById('message').textContent.startsWith(m), message);
    return opened;
  };
  const second = await openedBefore(elsewhere, 'The deployed contract registered weights committed to');
  assert.match(await second.page.textContent('#message'), /not this collection's \(0x[0-9a-f]{16}…\): it would refuse every proof from this model/);
  assert.ok(!(await second.page.evaluate(() => window.section9.prover)), 'no prover for a contract that registered other weights');
  assert.equal(await second.page.isDisabled('#prove'), true);
  assert.deepEqual(second.errors, []);
  // And the contract itself: the page's proof, valid in the artist's collection, is refused.
  await assert.rejects(
    reader.simulateContract({ account: second.account, address: elsewhere.art, abi: elsewhere.abi, functionName: 'mint', args: [await read('pack', [toHex(Uint8Array.from(made.rgb))]), BigInt(made.commitment), made.proof] }),
    (e) => e.walk((x) => x instanceof ContractFunctionRevertedError)?.data?.errorName === 'InvalidProof',
  );

  // A contract that registered no commitment (0: what a collection whose verifier has the
  // weights built in stores; deploy.js refuses this pairing, a hand-made deployment does not)
  // in front of the same files: named as such, and no prover either.
  const art = JSON.parse(fs.readFileSync(path.join(PRIVATE_SPRITE, 'build/Section9Art.json'), 'utf8'));
  const args = [settings.name, settings.symbol, elsewhere.verifier, `0x${settings.model_id}`, 0n, 16n, 16n, artist.address, 250n];
  const created = await reader.waitForTransactionReceipt({ hash: await wallet.deployContract({ abi: art.abi, bytecode: art.bytecode, args }) });
  const unregistered = { ...elsewhere, art: created.contractAddress };
  assert.equal(await reader.readContract({ address: unregistered.art, abi: unregistered.abi, functionName: 'weightCommitment' }), 0n);
  const third = await openedBefore(unregistered, 'The deployed contract registered no weight commitment');
  assert.match(await third.page.textContent('#message'), /deployed for a verifier with the weights built in, not for this private collection/);
  assert.ok(!(await third.page.evaluate(() => window.section9.prover)), 'no prover for a contract without a commitment');
  assert.deepEqual(third.errors, []);
  fs.rmSync(dir, { recursive: true, force: true });
});
