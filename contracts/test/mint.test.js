// The art contract and the generated verifier on a real EVM (Hardhat's, in process), with real
// proofs made by `section9 prove --dev-srs` for Hardhat's first two accounts.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEventLog, encodeDeployData, keccak256 } from 'viem';
import { chain, deploy, proofFile, verifierCalldata, artifact, artArgs, revertReason } from './helpers.js';
import { decodeTokenUri } from '../../web/src/token.js';

const R = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001n;
const EIP170_LIMIT = 24576;

let env, alice, bob, proofA, proofB;


/// The custom error a call reverts with (its name and arguments), or null if it succeeds.
async function revertOf(from, args) {
  return revertReason(env.client.simulateContract({ address: env.contracts.art, abi: env.contracts.abi, functionName: 'mint', args, account: from }), env.contracts.abi);
}

async function mint(from, image, commitment, proof) {
  const hash = await env.wallet(from).writeContract({ address: env.contracts.art, abi: env.contracts.abi, functionName: 'mint', args: [image, commitment, proof] });
  return env.client.waitForTransactionReceipt({ hash });
}

function read(functionName, args = []) {
  return env.client.readContract({ address: env.contracts.art, abi: env.contracts.abi, functionName, args });
}

function flipByte(hex, at) {
  const bytes = Buffer.from(hex.slice(2), 'hex');
  bytes[at] ^= 0x01;
  return `0x${bytes.toString('hex')}`;
}

describe('Section9Art with the generated verifier', { concurrency: 1 }, () => {
  before(async () => {
    proofA = proofFile('alice');
    proofB = proofFile('bob');
    env = await chain();
    [alice, bob] = env.accounts;
    assert.equal(proofA.minter, alice, 'proof-alice.json must be made for Hardhat account 0');
    assert.equal(proofB.minter, bob, 'proof-bob.json must be made for Hardhat account 1');
    env.contracts = await deploy(env, alice, `0x${proofA.model_id}`);
    for (const p of [proofA, proofB]) p.packed = await read('pack', [p.image]);
  });

  it('the deployed verifier is under EIP-170 and is the compiled one', async () => {
    const code = await env.client.getCode({ address: env.contracts.verifier });
    const size = (code.length - 2) / 2;
    assert.ok(size <= EIP170_LIMIT, `verifier is ${size} bytes`);
    assert.equal(code, artifact('Halo2Verifier').deployedBytecode);
  });

  it('the contract rebuilds exactly the public inputs the prover used', async () => {
    for (const p of [proofA, proofB]) {
      const inputs = await read('publicInputs', [p.minter, p.image, p.commitment]);
      assert.deepEqual([...inputs], p.instances);
    }
  });

  it('the verifier accepts a real proof and rejects a flipped byte', async () => {
    const data = verifierCalldata(proofA.instances, proofA.proof);
    await env.client.call({ to: env.contracts.verifier, data });
    const proofBytes = (proofA.proof.length - 2) / 2;
    for (const at of [0, 100, Math.floor(proofBytes / 2), proofBytes - 1]) {
      const bad = verifierCalldata(proofA.instances, flipByte(proofA.proof, at));
      await assert.rejects(env.client.call({ to: env.contracts.verifier, data: bad }), `proof byte ${at}`);
    }
  });

  it('tampered, replayed and malformed mints are refused with their reason', async () => {
    const { packed: image, commitment, proof } = proofA;
    assert.deepEqual(await revertOf(alice, [image, commitment, flipByte(proof, 200)]), { name: 'InvalidProof', args: undefined });
    const changedPixel = await read('pack', [flipByte(proofA.image, 1000)]);
    assert.deepEqual(await revertOf(alice, [changedPixel, commitment, proof]), { name: 'InvalidProof', args: undefined });
    assert.deepEqual(await revertOf(alice, [image, commitment + 1n, proof]), { name: 'InvalidProof', args: undefined });
    assert.deepEqual(await revertOf(alice, [image, commitment + R, proof]), { name: 'CommitmentOutOfField', args: undefined });
    // Bob replays Alice's proof: the minter input is msg.sender, so it no longer verifies.
    assert.deepEqual(await revertOf(bob, [image, commitment, proof]), { name: 'InvalidProof', args: undefined });
    assert.deepEqual(await revertOf(alice, [image, commitment, proof.slice(0, -64)]), { name: 'InvalidProof', args: undefined });
    // Plain white pictures one pixel short and one pixel long: 7 runs of 129, then 120 or 122.
    const white = (last) => `0x${'ffffffff'.repeat(7)}${last}ffffff`;
    assert.deepEqual(await revertOf(alice, [white('f6'), commitment, proof]), { name: 'WrongImageSize', args: [3069n] });
    assert.deepEqual(await revertOf(alice, [white('f8'), commitment, proof]), { name: 'WrongImageSize', args: [3075n] });
    assert.deepEqual(await revertOf(alice, [image.slice(0, -2), commitment, proof]), { name: 'BadPacking', args: undefined });
    assert.deepEqual(await revertOf(alice, ['0x', commitment, proof]), { name: 'WrongImageSize', args: [0n] });
    // Calldata that is not a mint call at all.
    await assert.rejects(env.client.call({ to: env.contracts.art, data: '0xdeadbeef', account: alice }));
    await assert.rejects(env.client.call({ to: env.contracts.art, data: '0x', account: alice }));
    await assert.rejects(env.client.call({ to: env.contracts.verifier, data: '0x' + 'ab'.repeat(700) }));
    assert.equal(await read('totalSupply'), 0n);
  });

  it('real proofs mint, a picture mints once, and tokenURI renders exactly the pixels', async () => {
    const receipt = await mint(alice, proofA.packed, proofA.commitment, proofA.proof);
    assert.equal(receipt.status, 'success');
    const minted = receipt.logs
      .map((log) => { try { return decodeEventLog({ abi: env.contracts.abi, ...log }); } catch { return null; } })
      .find((e) => e?.eventName === 'Minted');
    assert.deepEqual(minted.args, { tokenId: 1n, minter: alice, imageHash: keccak256(proofA.image), commitment: proofA.commitment });
    assert.equal(await read('ownerOf', [1n]), alice);

    // Once minted, the same picture is refused — for anyone, with any proof.
    assert.deepEqual(await revertOf(alice, [proofA.packed, proofA.commitment, proofA.proof]), { name: 'AlreadyMinted', args: [1n] });

    const second = await mint(bob, proofB.packed, proofB.commitment, proofB.proof);
    assert.equal(second.status, 'success');
    assert.equal(await read('ownerOf', [2n]), bob);
    assert.equal(await read('totalSupply'), 2n);

    for (const [id, p] of [[1n, proofA], [2n, proofB]]) {
      const meta = decodeTokenUri(await read('tokenURI', [id]));
      assert.equal(meta.name, `Section 9 #${id}`);
      assert.equal(meta.model_id, `0x${p.model_id}`);
      assert.equal(BigInt(meta.prompt_commitment), p.commitment);
      assert.equal(meta.width, 32);
      assert.equal(meta.height, 32);
      assert.ok(meta.svg.includes('image-rendering:pixelated'));
      assert.equal(`0x${Buffer.from(meta.rgb).toString('hex')}`, p.image, `token ${id} pixels`); // decoded by the page's own code
    }
    await assert.rejects(read('tokenURI', [3n]));
  });
});

describe('deployment', { concurrency: 1 }, () => {
  it('refuses a verifier address without code (a call to it would accept every proof)', async () => {
    const fresh = await chain();
    const a = artifact('Section9Art');
    const empty = '0x000000000000000000000000000000000000dEaD';
    assert.equal(await fresh.client.getCode({ address: empty }), undefined);
    const reason = await revertReason(deployRevert(fresh, a, empty), a.abi);
    assert.deepEqual(reason, { name: 'VerifierHasNoCode', args: [empty] });
  });
});

/// Deploying `a` with `verifier` as a call (eth_call of the creation code): rejects with the revert.
function deployRevert(fresh, a, verifier) {
  return fresh.client.call({ account: fresh.accounts[0], data: encodeDeployData({ abi: a.abi, bytecode: a.bytecode, args: artArgs({ verifier, modelId: `0x${'00'.repeat(32)}`, royaltyReceiver: fresh.accounts[0] }) }) }).then((r) => {
    throw new Error(`the deployment did not revert: ${JSON.stringify(r)}`);
  });
}

describe('run-length packing of stored pictures', { concurrency: 1 }, () => {
  let art;
  before(async () => {
    const fresh = await chain();
    art = await deploy(fresh, fresh.accounts[0], `0x${'00'.repeat(32)}`);
    art.client = fresh.client;
  });
  const call = (functionName, args) => art.client.readContract({ address: art.art, abi: art.abi, functionName, args });
  const hex = (bytes) => `0x${Buffer.from(bytes).toString('hex')}`;

  /// Deterministic pictures: plain, noise, and runs of every length from 1 to 300.
  function pictures() {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 256;
    const plain = new Uint8Array(3072).fill(255);
    const noise = Uint8Array.from({ length: 3072 }, rand);
    const runs = new Uint8Array(3072);
    for (let px = 0, len = 1; px < 1024; len = (len % 300) + 1) {
      const colour = [rand(), rand(), rand()];
      for (let k = 0; k < len && px < 1024; k++, px++) runs.set(colour, px * 3);
    }
    return { plain, noise, runs };
  }

  it('round-trips every kind of picture and packs a plain one into 32 bytes', async () => {
    const { plain, noise, runs } = pictures();
    for (const [name, image] of Object.entries({ plain, noise, runs })) {
      const packed = await call('pack', [hex(image)]);
      assert.equal(await call('unpack', [packed]), hex(image), name);
      if (name === 'plain') assert.equal((packed.length - 2) / 2, 8 * 4);
      if (name === 'noise') assert.ok((packed.length - 2) / 2 <= 3072 + 8);
    }
  });

  it('refuses packings that do not make exactly one picture', async () => {
    const packed = await call('pack', [hex(pictures().runs)]);
    for (const bad of [packed.slice(0, -2), packed + '8000ff', '0x7f00']) {
      assert.deepEqual(await revertReason(call('unpack', [bad]), art.abi), { name: 'BadPacking', args: undefined }, bad.slice(0, 20));
    }
    assert.deepEqual(await revertReason(call('pack', [hex(new Uint8Array(3071))]), art.abi), { name: 'WrongImageSize', args: [3071n] });
    assert.deepEqual(await revertReason(call('unpack', ['0xfeffffff']), art.abi), { name: 'WrongImageSize', args: [384n] });
  });
});
