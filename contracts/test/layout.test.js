// A collection laid out for the prover (`section9 collection new --optimize prover`: wider dot
// rows and two range lanes at a smaller k), on a real EVM: its own verifier mints a real proof
// made at its layout and refuses it from anyone else or tampered; a collection of the default
// layout refuses it (another circuit, another verifying key). Prints the verification gas the
// faster proof costs (scripts/gas.js records it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { artArgs, artifact, chain, proofFile, revertReason, root, verifierCalldata } from './helpers.js';
import { deployVerifier } from '../scripts/verifier.js';

test('a collection laid out for the prover mints its own proofs only', async () => {
  const settings = JSON.parse(fs.readFileSync(path.join(root, 'generated/prover/collection.json'), 'utf8'));
  const fast = artifact('Halo2Verifier', 'build/prover');
  const usual = artifact('Halo2Verifier');
  assert.ok(settings.lanes > 1 && (settings.width > 5 || settings.accumulators > 1), `laid out for the prover: ${JSON.stringify(settings)}`);
  assert.ok(Number(fast.header.k) < Number(usual.header.k), `k ${fast.header.k} against the default layout's ${usual.header.k}`);
  const accumulators = settings.accumulators > 1 ? `, ${settings.accumulators} accumulators` : '';
  assert.equal(fast.header.layout, `W = ${settings.width}, ${settings.lanes} range lanes${accumulators}`, 'the verifier header names the layout its key is for');
  const proof = proofFile('alice', 'generated/prover');
  assert.equal(proof.k, settings.k);

  const env = await chain();
  const [alice, bob] = env.accounts;
  const deployContract = async (c) => env.client.waitForTransactionReceipt({ hash: await env.wallet(alice).deployContract(c) });
  const collection = async (v) => {
    const { address: verifier } = await deployVerifier(v, deployContract);
    const a = artifact('Section9Art');
    const receipt = await deployContract({ abi: a.abi, bytecode: a.bytecode, args: artArgs({ verifier, modelId: `0x${proof.model_id}`, royaltyReceiver: alice }) });
    return { address: receipt.contractAddress, abi: a.abi, verifier };
  };
  const mine = await collection(fast);
  const other = await collection(usual);
  const packed = await env.client.readContract({ address: mine.address, abi: mine.abi, functionName: 'pack', args: [proof.image] });
  const mint = (c, from, bytes) => env.client.simulateContract({ address: c.address, abi: c.abi, functionName: 'mint', args: [packed, proof.commitment, bytes], account: from });

  const flipped = Buffer.from(proof.proof.slice(2), 'hex');
  flipped[flipped.length >> 1] ^= 1;
  assert.deepEqual(await revertReason(mint(mine, alice, `0x${flipped.toString('hex')}`), mine.abi), { name: 'InvalidProof', args: undefined });
  assert.deepEqual(await revertReason(mint(mine, bob, proof.proof), mine.abi), { name: 'InvalidProof', args: undefined }, 'the minter is msg.sender');
  assert.deepEqual(await revertReason(mint(other, alice, proof.proof), other.abi), { name: 'InvalidProof', args: undefined }, 'the default layout is another circuit');

  const verification = await env.client.estimateGas({ account: alice, to: mine.verifier, data: verifierCalldata(proof.instances, proof.proof) });
  const hash = await env.wallet(alice).writeContract({ address: mine.address, abi: mine.abi, functionName: 'mint', args: [packed, proof.commitment, proof.proof] });
  const receipt = await env.client.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, 'success');
  assert.equal(await env.client.readContract({ address: mine.address, abi: mine.abi, functionName: 'ownerOf', args: [1n] }), alice);
  console.log(`laid out for the prover (k = ${fast.header.k}, W = ${settings.width}, ${settings.lanes} lanes, ${settings.accumulators} accumulators): verification ${verification} gas (whole call), mint ${receipt.gasUsed} gas`);
});
