// The art contract as a creator's collection: ERC-7007 (`addAigcData`, `verify`, `AigcData`,
// the metadata fields), ERC-2981 royalties, ERC-165, the constructor's settings, and pictures
// of other sizes than 32×32 — checked against a JavaScript statement, and minted through a
// stand-in verifier that accepts everything (no proofs exist for those sizes).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { concat, decodeEventLog, encodeAbiParameters, encodeDeployData, keccak256, numberToBytes, toFunctionSelector, toHex, zeroAddress } from 'viem';
import { artArgs, artifact, chain, deploy, proofFile, revertReason } from './helpers.js';
import { decodeBmp, decodeTokenUri } from '../../web/src/token.js';

const R = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001n;
const ZERO_MODEL = `0x${'00'.repeat(32)}`;

/// The ERC-165 id of an interface: the XOR of its functions' selectors.
const interfaceId = (...signatures) =>
  toHex(signatures.map((s) => Number.parseInt(toFunctionSelector(s).slice(2), 16)).reduce((a, b) => (a ^ b) >>> 0), { size: 4 });
const IDS = {
  erc165: interfaceId('supportsInterface(bytes4)'),
  erc721: '0x80ac58cd',
  erc721Metadata: interfaceId('name()', 'symbol()', 'tokenURI(uint256)'),
  erc2981: interfaceId('royaltyInfo(uint256,uint256)'),
  erc7007: interfaceId('addAigcData(uint256,bytes,bytes,bytes)', 'verify(bytes,bytes,bytes)'),
};

/// The statement as crate/src/circuit/statement.rs defines it, rebuilt here from the text:
/// γ = keccak256(image ‖ commitment) mod R; the image's 31-byte big-endian chunks evaluated at γ.
function statement(minter, image, commitment) {
  const gamma = BigInt(keccak256(concat([image, numberToBytes(commitment, { size: 32 })]))) % R;
  let evaluation = 0n;
  for (let i = 0; i < image.length; i += 31) {
    evaluation = (evaluation * gamma + BigInt(toHex(image.subarray(i, i + 31)))) % R;
  }
  return [BigInt(minter), commitment, gamma, evaluation];
}

/// The ERC-7007 prompt of a mint: abi.encode(commitment, minter).
const promptOf = (commitment, minter) => encodeAbiParameters([{ type: 'uint256' }, { type: 'address' }], [commitment, minter]);

/// A deterministic picture of `pixels` pixels: noise with a few runs, so both packet kinds occur.
function picture(pixels, seed) {
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) >> 8 & 0xff;
  const image = Uint8Array.from({ length: pixels * 3 }, rand);
  for (let px = 0; px < pixels; px += 1 + (rand() % 40)) {
    const run = Math.min(rand() % 12, pixels - px);
    for (let k = 1; k < run; k++) image.copyWithin((px + k) * 3, px * 3, px * 3 + 3);
    px += run;
  }
  return image;
}

function logsOf(receipt, abi, eventName) {
  return receipt.logs
    .map((log) => { try { return decodeEventLog({ abi, ...log }); } catch { return null; } })
    .filter((e) => e?.eventName === eventName);
}

function flipByte(hex, at) {
  const bytes = Buffer.from(hex.slice(2), 'hex');
  bytes[at] ^= 0x01;
  return `0x${bytes.toString('hex')}`;
}

describe('ERC-7007, ERC-2981 and ERC-165 with real proofs', { concurrency: 1 }, () => {
  let env, c, alice, bob, pA, pB;
  const read = (functionName, args = []) => env.client.readContract({ address: c.art, abi: c.abi, functionName, args });
  const send = async (from, functionName, args) => {
    const hash = await env.wallet(from).writeContract({ address: c.art, abi: c.abi, functionName, args });
    return env.client.waitForTransactionReceipt({ hash });
  };
  const refusal = (from, functionName, args) =>
    revertReason(env.client.simulateContract({ address: c.art, abi: c.abi, functionName, args, account: from }), c.abi);

  before(async () => {
    env = await chain();
    [alice, bob] = env.accounts;
    pA = proofFile('alice');
    pB = proofFile('bob');
    c = await deploy(env, alice, `0x${pA.model_id}`);
  });

  it('the JavaScript statement is the prover\'s (so it can check other sizes)', () => {
    for (const p of [pA, pB]) assert.deepEqual(statement(p.minter, Buffer.from(p.image.slice(2), 'hex'), p.commitment), p.instances);
  });

  it('supportsInterface: ERC-7007 (the id the ERC states), ERC-2981, ERC-721, ERC-165; not others', async () => {
    assert.equal(IDS.erc7007, '0x702c55a6', 'ERC-7007 states 0x702c55a6');
    assert.equal(IDS.erc165, '0x01ffc9a7');
    assert.equal(IDS.erc2981, '0x2a55205a');
    assert.equal(IDS.erc721Metadata, '0x5b5e139f');
    for (const [name, id] of Object.entries(IDS)) assert.equal(await read('supportsInterface', [id]), true, name);
    for (const id of ['0xdeadbeef', '0xffffffff', '0x00000000', '0x7e52e423']) assert.equal(await read('supportsInterface', [id]), false, id);
  });

  it('verify accepts the real statement and returns false, never reverting, for anything else', async () => {
    const verify = (prompt, image, proof) => read('verify', [prompt, image, proof]);
    const prompt = promptOf(pA.commitment, alice);
    assert.equal(await verify(prompt, pA.image, pA.proof), true);
    assert.equal(await verify(promptOf(pB.commitment, bob), pB.image, pB.proof), true);
    const cases = {
      'tampered proof': [prompt, pA.image, flipByte(pA.proof, 200)],
      'truncated proof': [prompt, pA.image, pA.proof.slice(0, -64)],
      'empty proof': [prompt, pA.image, '0x'],
      'wrong commitment': [promptOf(pA.commitment + 1n, alice), pA.image, pA.proof],
      'commitment + R': [promptOf(pA.commitment + R, alice), pA.image, pA.proof],
      'wrong picture': [prompt, flipByte(pA.image, 1000), pA.proof],
      'another minter': [promptOf(pA.commitment, bob), pA.image, pA.proof],
      'another statement\'s proof': [prompt, pA.image, pB.proof],
      'short picture': [prompt, pA.image.slice(0, -6), pA.proof],
      'prompt without minter': [toHex(numberToBytes(pA.commitment, { size: 32 })), pA.image, pA.proof],
      'prompt too long': [`${prompt}00`, pA.image, pA.proof],
      'minter word over 160 bits': [toHex(concat([numberToBytes(pA.commitment, { size: 32 }), numberToBytes((1n << 160n) + BigInt(alice), { size: 32 })])), pA.image, pA.proof],
    };
    for (const [name, args] of Object.entries(cases)) assert.equal(await verify(...args), false, name);
  });

  it('addAigcData mints like mint, for the sender only, at the next id; both emit AigcData', async () => {
    const prompt = promptOf(pA.commitment, alice);
    assert.deepEqual(await refusal(alice, 'addAigcData', [1n, toHex(numberToBytes(pA.commitment, { size: 32 })), pA.image, pA.proof]), { name: 'BadPrompt', args: undefined });
    assert.deepEqual(await refusal(bob, 'addAigcData', [1n, prompt, pA.image, pA.proof]), { name: 'PromptNotForSender', args: undefined });
    assert.deepEqual(await refusal(alice, 'addAigcData', [2n, prompt, pA.image, pA.proof]), { name: 'WrongTokenId', args: [1n] });
    assert.deepEqual(await refusal(alice, 'addAigcData', [0n, prompt, pA.image, pA.proof]), { name: 'WrongTokenId', args: [1n] });
    assert.deepEqual(await refusal(alice, 'addAigcData', [1n, prompt, pA.image, flipByte(pA.proof, 5)]), { name: 'InvalidProof', args: undefined });
    assert.deepEqual(await refusal(alice, 'addAigcData', [1n, prompt, pA.image.slice(0, -2), pA.proof]), { name: 'WrongImageSize', args: [3071n] });
    assert.deepEqual(await refusal(alice, 'addAigcData', [1n, promptOf(pA.commitment + R, alice), pA.image, pA.proof]), { name: 'CommitmentOutOfField', args: undefined });

    const first = await send(alice, 'addAigcData', [1n, prompt, pA.image, pA.proof]);
    assert.equal(first.status, 'success');
    assert.equal(await read('ownerOf', [1n]), alice);
    const [aigc] = logsOf(first, c.abi, 'AigcData');
    // Indexed `bytes` are topics: their keccak256.
    assert.deepEqual(aigc.args, { tokenId: 1n, prompt: keccak256(prompt), aigcData: keccak256(pA.image), proof: pA.proof });
    assert.deepEqual(logsOf(first, c.abi, 'Minted')[0].args, { tokenId: 1n, minter: alice, imageHash: keccak256(pA.image), commitment: pA.commitment });
    // The picture stored is the one given, packed as `pack` packs it.
    assert.deepEqual(await read('art', [1n]), [pA.image, pA.commitment]);

    // Once minted, neither way mints the picture again.
    assert.deepEqual(await refusal(alice, 'addAigcData', [2n, prompt, pA.image, pA.proof]), { name: 'AlreadyMinted', args: [1n] });
    const packedA = await read('pack', [pA.image]);
    assert.deepEqual(await refusal(alice, 'mint', [packedA, pA.commitment, pA.proof]), { name: 'AlreadyMinted', args: [1n] });

    const second = await send(bob, 'mint', [await read('pack', [pB.image]), pB.commitment, pB.proof]);
    assert.deepEqual(logsOf(second, c.abi, 'AigcData')[0].args, { tokenId: 2n, prompt: keccak256(promptOf(pB.commitment, bob)), aigcData: keccak256(pB.image), proof: pB.proof });
    assert.equal(await read('totalSupply'), 2n);

    // What a holder re-checks: the token's prompt, its picture and its event's proof verify.
    for (const [id, receipt] of [[1n, first], [2n, second]]) {
      const tokenPrompt = await read('promptOf', [id]);
      const [image] = await read('art', [id]);
      assert.equal(await read('verify', [tokenPrompt, image, logsOf(receipt, c.abi, 'AigcData')[0].args.proof]), true, `token ${id}`);
    }
  });

  it('tokenURI follows ERC-7007\'s metadata schema and its pictures are the minted pixels', async () => {
    for (const [id, p, minter] of [[1n, pA, alice], [2n, pB, bob]]) {
      const meta = decodeTokenUri(await read('tokenURI', [id]));
      assert.equal(meta.name, `Section 9 #${id}`);
      assert.match(meta.description, /^A 32x32 picture proved/);
      assert.equal(meta.prompt, promptOf(p.commitment, minter));
      assert.equal(meta.prompt, await read('promptOf', [id]));
      assert.equal(meta.aigc_type, 'image');
      assert.equal(meta.proof_type, 'validity');
      assert.equal(meta.minter, minter.toLowerCase());
      assert.equal(BigInt(meta.prompt_commitment), p.commitment);
      // `image` (what marketplaces show) and `aigc_data` (the picture itself) both decode to
      // exactly the minted pixels.
      assert.equal(toHex(meta.rgb), p.image);
      assert.match(meta.svg, /width="512" height="512"/);
      const prefix = 'data:image/bmp;base64,';
      assert.ok(meta.aigc_data.startsWith(prefix));
      const bmp = decodeBmp(Buffer.from(meta.aigc_data.slice(prefix.length), 'base64'));
      assert.deepEqual([bmp.width, bmp.height, toHex(bmp.rgb)], [32, 32, p.image]);
    }
  });

  it('royaltyInfo pays the artist (here the deployer) 5 % by default, for every token', async () => {
    assert.deepEqual(await read('royaltyInfo', [1n, 10n ** 18n]), [alice, 5n * 10n ** 16n]);
    assert.deepEqual(await read('royaltyInfo', [99n, 1999n]), [alice, 99n]); // rounded down
  });
});

describe('constructor settings', { concurrency: 1 }, () => {
  let fresh, a, verifier;
  /// Runs the creation code as a call: null if it deploys, else the custom error.
  const construct = (settings) =>
    revertReason(fresh.client.call({ account: fresh.accounts[0], data: encodeDeployData({ abi: a.abi, bytecode: a.bytecode, args: artArgs({ verifier, modelId: ZERO_MODEL, royaltyReceiver: fresh.accounts[2], ...settings }) }) }), a.abi);

  before(async () => {
    fresh = await chain();
    a = artifact('Section9Art');
    verifier = (await deploy(fresh, fresh.accounts[0], ZERO_MODEL)).verifier;
  });

  it('takes royalties from 0 to 10,000 bps and refuses more, or a zero receiver', async () => {
    for (const royaltyBps of [0, 1, 500, 10000]) assert.equal(await construct({ royaltyBps }), null, `${royaltyBps} bps`);
    assert.deepEqual(await construct({ royaltyBps: 10001 }), { name: 'ERC2981InvalidDefaultRoyalty', args: [10001n, 10000n] });
    assert.deepEqual(await construct({ royaltyReceiver: zeroAddress }), { name: 'ERC2981InvalidDefaultRoyaltyReceiver', args: [zeroAddress] });

    const c = await deploy(fresh, fresh.accounts[0], ZERO_MODEL, { name: 'Puppet Master', symbol: 'PM', royaltyReceiver: fresh.accounts[3], royaltyBps: 0 });
    const read = (functionName, args = []) => fresh.client.readContract({ address: c.art, abi: c.abi, functionName, args });
    assert.deepEqual(await read('royaltyInfo', [1n, 10n ** 18n]), [fresh.accounts[3], 0n]);
    assert.deepEqual([await read('name'), await read('symbol'), await read('width'), await read('height'), await read('imageBytes')], ['Puppet Master', 'PM', 32n, 32n, 3072n]);
  });

  it('takes pictures of 1 to 8,100 pixels and refuses other sizes', async () => {
    for (const [width, height] of [[1, 1], [16, 24], [90, 90], [8100, 1], [1, 8100]]) {
      assert.equal(await construct({ width, height }), null, `${width}×${height}`);
    }
    const huge = 1n << 255n;
    for (const [width, height] of [[0, 32], [32, 0], [0, 0], [91, 90], [8101, 1], [1, 8101], [huge, huge], [huge, 1n]]) {
      assert.deepEqual(await construct({ width, height }), { name: 'BadPictureSize', args: [BigInt(width), BigInt(height)] }, `${width}×${height}`);
    }
  });
});

describe('pictures of other sizes', { concurrency: 1 }, () => {
  let fresh, acceptAll, minter;

  before(async () => {
    fresh = await chain();
    minter = fresh.accounts[4];
    // A stand-in "verifier" whose code is a single STOP: every call succeeds. Only for
    // exercising sizes no proof exists for; the constructor accepts it because it has code.
    const hash = await fresh.wallet(fresh.accounts[0]).sendTransaction({ data: '0x6001600c60003960016000f300' });
    acceptAll = (await fresh.client.waitForTransactionReceipt({ hash })).contractAddress;
    assert.equal(await fresh.client.getCode({ address: acceptAll }), '0x00');
  });

  /// A collection of `width × height` pictures over the stand-in verifier.
  async function collection(width, height) {
    const a = artifact('Section9Art');
    const w = fresh.wallet(fresh.accounts[0]);
    const hash = await w.deployContract({ abi: a.abi, bytecode: a.bytecode, args: artArgs({ verifier: acceptAll, modelId: ZERO_MODEL, width, height, royaltyReceiver: fresh.accounts[0] }) });
    const address = (await fresh.client.waitForTransactionReceipt({ hash })).contractAddress;
    const read = (functionName, args = []) => fresh.client.readContract({ address, abi: a.abi, functionName, args });
    const send = async (functionName, args) => {
      const tx = await fresh.wallet(minter).writeContract({ address, abi: a.abi, functionName, args });
      return fresh.client.waitForTransactionReceipt({ hash: tx });
    };
    const refusal = (functionName, args) => revertReason(read(functionName, args), a.abi);
    return { abi: a.abi, read, send, refusal };
  }

  // 16×24 and 20×20: rows already a multiple of 4 bytes, last chunks of 5 and 22 bytes;
  // 7×5: 21-byte rows padded to 24; 31×1: the last chunk a full 31 bytes; 1×1: one 3-byte
  // chunk; 90×90: the largest square.
  for (const [width, height] of [[16, 24], [20, 20], [7, 5], [31, 1], [1, 1], [90, 90]]) {
    it(`${width}×${height}: the statement, packing and BMP are right`, async () => {
      const art = await collection(width, height);
      const bytes = width * height * 3;
      assert.equal(await art.read('imageBytes'), BigInt(bytes));
      const image = picture(width * height, width * 1000 + height);
      const hex = toHex(image);
      const commitment = BigInt(keccak256(hex)) % R;

      assert.deepEqual([...(await art.read('publicInputs', [minter, hex, commitment]))], statement(minter, image, commitment));

      const packed = await art.read('pack', [hex]);
      assert.equal(await art.read('unpack', [packed]), hex);

      const bmp = Buffer.from((await art.read('bmp', [hex])).slice(2), 'hex');
      const stride = Math.ceil((width * 3) / 4) * 4;
      assert.equal(bmp.length, 54 + stride * height);
      assert.equal(bmp.readUInt32LE(2), bmp.length);
      assert.equal(bmp.readUInt32LE(34), stride * height);
      for (let y = 0; y < height; y++) {
        for (let k = width * 3; k < stride; k++) assert.equal(bmp[54 + y * stride + k], 0, 'row padding is zero');
      }
      const decoded = decodeBmp(new Uint8Array(bmp));
      assert.deepEqual([decoded.width, decoded.height, toHex(decoded.rgb)], [width, height, hex]);

      for (const wrong of [image.subarray(3), concat([image, new Uint8Array(3)])]) {
        const reason = { name: 'WrongImageSize', args: [BigInt(wrong.length)] };
        assert.deepEqual(await art.refusal('publicInputs', [minter, toHex(wrong), commitment]), reason);
        assert.deepEqual(await art.refusal('pack', [toHex(wrong)]), reason);
        assert.deepEqual(await art.refusal('bmp', [toHex(wrong)]), reason);
      }
    });
  }

  it('16×24 and 7×5 mint both ways and render at their size; a 90×90 picture without repeats is stored', async () => {
    for (const [width, height, scale] of [[16, 24, 21], [7, 5, 73]]) {
      const art = await collection(width, height);
      const image = toHex(picture(width * height, 3 * width + height));
      const other = toHex(picture(width * height, 5 * width + height));
      const commitment = 12345n;
      assert.equal((await art.send('mint', [await art.read('pack', [image]), commitment, '0x'])).status, 'success');
      assert.equal((await art.send('addAigcData', [2n, promptOf(commitment, minter), other, '0x'])).status, 'success');
      for (const [id, pixels] of [[1n, image], [2n, other]]) {
        const meta = decodeTokenUri(await art.read('tokenURI', [id]));
        assert.deepEqual([meta.width, meta.height, toHex(meta.rgb)], [width, height, pixels]);
        assert.match(meta.description, new RegExp(`^A ${width}x${height} picture`));
        assert.ok(meta.svg.includes(`viewBox="0 0 ${width} ${height}" width="${width * scale}" height="${height * scale}"`), meta.svg.slice(0, 120));
        assert.equal(meta.prompt, promptOf(commitment, minter));
      }
    }
    const big = await collection(90, 90);
    const noise = Uint8Array.from({ length: 90 * 90 * 3 }, (_, i) => (i * 7919 + (i >> 3) * 31) & 0xff);
    const packed = await big.read('pack', [toHex(noise)]);
    assert.ok((packed.length - 2) / 2 >= 3 * 8100, 'noise does not pack');
    assert.equal((await big.send('mint', [packed, 1n, '0x'])).status, 'success');
    assert.equal(toHex(decodeTokenUri(await big.read('tokenURI', [1n])).rgb), toHex(noise));
  });
});
