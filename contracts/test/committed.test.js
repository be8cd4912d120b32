// Collections of a model with committed weights, on a real EVM: one verifier (the generator's
// shape's, split across contracts) serves several collections, each registered at deployment
// with its artist's weight commitment; a real proof made with `section9 prove --weights
// committed` mints only in the collection of the weights it was made with.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { encodeDeployData, keccak256, toHex } from 'viem';
import { artArgs, artifact, chain, proofFile, revertReason } from './helpers.js';
import { deployVerifier } from '../scripts/verifier.js';

const R = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001n;
const EIP170_LIMIT = 24576;
const BUILD = 'build/committed';

let env, alice, bob, proof, verifier;

async function collection(weightCommitment) {
  const a = artifact('Section9Art', BUILD);
  const args = artArgs({ verifier, modelId: `0x${proof.model_id}`, weightCommitment, royaltyReceiver: alice });
  const hash = await env.wallet(alice).deployContract({ abi: a.abi, bytecode: a.bytecode, args });
  const receipt = await env.client.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, 'success');
  return { address: receipt.contractAddress, abi: a.abi };
}

function read(c, functionName, args = []) {
  return env.client.readContract({ address: c.address, abi: c.abi, functionName, args });
}

function mintRevert(c, from, args) {
  return revertReason(env.client.simulateContract({ address: c.address, abi: c.abi, functionName: 'mint', args, account: from }), c.abi);
}

describe('collections of committed weights', { concurrency: 1 }, () => {
  before(async () => {
    proof = proofFile('alice', 'generated/committed');
    env = await chain();
    [alice, bob] = env.accounts;
    assert.equal(proof.minter, alice, 'generated/committed/proof-alice.json must be made for Hardhat account 0');
    assert.ok(proof.weights, 'the proof file names its weight commitment');
    const v = artifact('Halo2Verifier', BUILD);
    assert.equal(v.header.weights, 'committed');
    ({ address: verifier } = await deployVerifier(v, async (c) => env.client.waitForTransactionReceipt({ hash: await env.wallet(alice).deployContract(c) })));
  });

  it('the shape\'s verifier is split into parts each under EIP-170, and takes five public inputs', async () => {
    const v = artifact('Halo2Verifier', BUILD);
    assert.ok((v.parts ?? [v]).length >= 2, 'a committed-weights verifier is larger than one contract');
    for (const part of v.parts ?? [v]) assert.ok(part.deployedSize <= EIP170_LIMIT, `${part.name} is ${part.deployedSize} bytes`);
    assert.equal(proof.instances.length, 5);
    assert.equal(proof.instances[4], BigInt(proof.weights));
  });

  it('a proof mints in the collection of its weights, and in no other collection of the shape', async () => {
    const weights = BigInt(proof.weights);
    const mine = await collection(weights);
    // Another artist's collection of the same shape: same verifier, another commitment.
    const other = BigInt(keccak256(toHex('another artist\'s weights'))) % R;
    const theirs = await collection(other);
    assert.equal(await read(mine, 'verifier'), await read(theirs, 'verifier'), 'one verifier serves both');
    assert.equal(await read(mine, 'weightCommitment'), weights);
    const packed = await read(mine, 'pack', [proof.image]);
    const prompt = `0x${proof.commitment.toString(16).padStart(64, '0')}${alice.slice(2).toLowerCase().padStart(64, '0')}`;

    // ERC-7007 verify: true only against the weights the proof was made with.
    assert.equal(await read(mine, 'verify', [prompt, proof.image, proof.proof]), true);
    assert.equal(await read(theirs, 'verify', [prompt, proof.image, proof.proof]), false);

    assert.deepEqual(await mintRevert(theirs, alice, [packed, proof.commitment, proof.proof]), { name: 'InvalidProof', args: undefined });
    // Bob replays Alice's proof in her collection: the minter is msg.sender.
    assert.deepEqual(await mintRevert(mine, bob, [packed, proof.commitment, proof.proof]), { name: 'InvalidProof', args: undefined });

    const hash = await env.wallet(alice).writeContract({ address: mine.address, abi: mine.abi, functionName: 'mint', args: [packed, proof.commitment, proof.proof] });
    const receipt = await env.client.waitForTransactionReceipt({ hash });
    assert.equal(receipt.status, 'success');
    assert.equal(await read(mine, 'ownerOf', [1n]), alice);
    console.log(`committed-weights mint: ${receipt.gasUsed} gas`);
    assert.deepEqual(await mintRevert(mine, alice, [packed, proof.commitment, proof.proof]), { name: 'AlreadyMinted', args: [1n] });
    assert.equal(await read(theirs, 'totalSupply'), 0n);
  });

  it('a collection without a weight commitment cannot use the shape\'s verifier, and a commitment must be canonical', async () => {
    const fixed = await collection(0n);
    const packed = await read(fixed, 'pack', [proof.image]);
    assert.deepEqual(await mintRevert(fixed, alice, [packed, proof.commitment, proof.proof]), { name: 'InvalidProof', args: undefined });
    const a = artifact('Section9Art', BUILD);
    const data = encodeDeployData({ abi: a.abi, bytecode: a.bytecode, args: artArgs({ verifier, modelId: `0x${proof.model_id}`, weightCommitment: BigInt(proof.weights) + R, royaltyReceiver: alice }) });
    assert.deepEqual(await revertReason(env.client.call({ account: alice, data }), a.abi), { name: 'CommitmentOutOfField', args: undefined });
  });
});
