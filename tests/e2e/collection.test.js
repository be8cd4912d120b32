// A creator's collection other than the committed one, end to end in headless Chromium: the
// second generator (model/sprite, plain PyTorch exported by torch.onnx.export: nearest
// upsampling + convolutions, a 16×16 grey picture), made into a collection by
// `section9 collection new --optimize prover` (its mint circuit in wider rows and two range
// lanes, at a smaller k), deployed with its own name, symbol,
// picture size and royalty, minted from its page through the wallet; the token's tokenURI
// follows ERC-7007's metadata schema and decodes to exactly the minted pixels.
//
// Needs target/e2e/sprite (scripts/e2e.sh makes it), web/dist and pkg/.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createPublicClient, http } from 'viem';
import { start, openPage, SPRITE } from './harness.js';
import { decodeTokenUri } from '../../web/src/token.js';

let env;
after(() => env?.stop());

test('a second generator: collection new → deploy → its page → proof → wallet mint → ERC-7007 token', { timeout: 600_000 }, async () => {
  env = await start({ collection: SPRITE });
  const settings = JSON.parse(fs.readFileSync(path.join(SPRITE, 'collection.json'), 'utf8'));
  assert.deepEqual(settings.picture, { channels: 1, height: 16, width: 16 });
  const { page, account, errors } = await openPage(env);
  await page.goto(env.url);
  await page.waitForFunction(() => window.section9?.model);
  assert.equal(await page.textContent('#collection-name'), 'Sprites');
  assert.match(await page.textContent('#model-line'), new RegExp(`^Sprites · model ${settings.model_id.slice(0, 16)}… · 16×16`));
  await page.fill('#prompt', 'a lantern in the fog');
  const canvas = await page.evaluate(() => {
    const art = document.getElementById('art');
    const data = art.getContext('2d').getImageData(0, 0, art.width, art.height).data;
    return { width: art.width, height: art.height, rgb: Array.from({ length: art.width * art.height * 3 }, (_, i) => data[Math.floor(i / 3) * 4 + (i % 3)]) };
  });
  assert.equal(canvas.width, 16);
  assert.equal(canvas.height, 16);
  for (let p = 0; p < 256; p++) {
    assert.ok(canvas.rgb[3 * p] === canvas.rgb[3 * p + 1] && canvas.rgb[3 * p] === canvas.rgb[3 * p + 2], `pixel ${p} is grey`);
  }
  assert.ok(new Set(canvas.rgb).size > 8, 'the picture is not flat');

  await page.click('#connect');
  await page.waitForFunction(() => window.section9.account && window.section9.chainOk);
  const slow = { timeout: 300_000, polling: 250 };
  await page.waitForFunction(() => window.section9.prover, null, slow);
  // The page's prover takes the collection's layout from its manifest.
  assert.ok(settings.lanes > 1 && (settings.width > 5 || settings.accumulators > 1), `laid out for the prover: ${JSON.stringify(settings)}`);
  assert.equal(await page.evaluate(() => window.section9.prover.k), settings.k);
  await page.click('#prove');
  await page.waitForFunction(() => window.section9.proof, null, slow);
  const proof = await page.evaluate(() => ({ ...window.section9.proof, rgb: Array.from(window.section9.proof.rgb) }));
  assert.deepEqual(proof.rgb, canvas.rgb, 'the proof is for the picture on the canvas');
  await page.click('#mint');
  await page.waitForFunction(() => window.section9.minted, null, { timeout: 120_000 });
  const minted = await page.evaluate(() => window.section9.minted);
  assert.deepEqual(minted.rgb, canvas.rgb, 'the page renders the token from its tokenURI as the generated picture');
  assert.deepEqual(errors, []);

  // The contract, read directly: ERC-7007 metadata, interfaces, royalties, the collection's name.
  const deployment = JSON.parse(fs.readFileSync(path.join(SPRITE, 'static/deployment.json'), 'utf8'));
  const reader = createPublicClient({ transport: http(env.rpc) });
  const read = (functionName, args = []) => reader.readContract({ address: deployment.art, abi: deployment.abi, functionName, args });
  assert.equal(await read('name'), 'Sprites');
  assert.equal(await read('symbol'), 'SPR');
  assert.equal(await read('width'), 16n);
  for (const id of ['0x702c55a6', '0x2a55205a', '0x80ac58cd', '0x01ffc9a7']) assert.equal(await read('supportsInterface', [id]), true, id);
  const [receiver, royalty] = await read('royaltyInfo', [1n, 10_000n]);
  assert.equal(royalty, 250n);
  assert.equal(receiver.toLowerCase(), deployment.royalty.receiver.toLowerCase(), 'royalties go to the collection\'s receiver');
  const token = decodeTokenUri(await read('tokenURI', [1n]));
  assert.equal(token.aigc_type, 'image');
  assert.equal(token.proof_type, 'validity');
  assert.ok(token.prompt.toLowerCase().includes(proof.commitment.slice(2).toLowerCase()), 'the ERC-7007 prompt carries the commitment');
  assert.equal(token.width, 16);
  assert.deepEqual(Array.from(token.rgb), canvas.rgb, 'tokenURI decodes to exactly the minted pixels');
  assert.equal((await read('ownerOf', [1n])).toLowerCase(), account.address.toLowerCase());
});
