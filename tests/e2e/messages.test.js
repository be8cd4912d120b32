// The page off the happy path, in headless Chromium: served without cross-origin isolation it
// falls back to the single-threaded build; a missing wallet, a rejected request, the wrong
// network and a truncated params file each get their own message, and nothing crashes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { start, openPage, walletError, GAN } from './harness.js';

let env;
before(async () => {
  env = await start({ isolated: false });
});
after(() => env?.stop());

const message = (page) => page.locator('#message').textContent();

describe('the mint page off the happy path', { concurrency: 1, timeout: 600_000 }, () => {
  it('without cross-origin isolation runs the single-threaded build', async () => {
    const { page, errors } = await openPage(env);
    await page.goto(env.url);
    assert.equal(await page.evaluate(() => self.crossOriginIsolated), false);
    await page.waitForFunction(() => window.section9?.model);
    const lit = await page.evaluate(() => document.getElementById('art').getContext('2d').getImageData(0, 0, 32, 32).data.some((v, i) => i % 4 !== 3 && v !== 0));
    assert.ok(lit, 'the picture is drawn');
    await page.waitForFunction(() => window.section9.prover, null, { timeout: 300_000 });
    const prover = await page.evaluate(() => window.section9.prover);
    assert.deepEqual([prover.threaded, prover.threads], [false, 1]);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('says so when there is no wallet', async () => {
    const { page } = await openPage(env, { wallet: false });
    await page.goto(env.url);
    await page.waitForFunction(() => window.section9?.model);
    await page.click('#connect');
    assert.match(await message(page), /No wallet found/);
    assert.equal(await page.locator('#prove').isDisabled(), true);
    await page.close();
  });

  it('says so when the request is rejected in the wallet', async () => {
    const { page } = await openPage(env, { behaviour: { eth_requestAccounts: () => { throw walletError(4001, 'User rejected the request.'); } } });
    await page.goto(env.url);
    await page.waitForFunction(() => window.section9?.model);
    await page.click('#connect');
    await page.waitForFunction(() => document.getElementById('message').textContent.length > 0);
    assert.equal(await message(page), 'You rejected the request in your wallet.');
    await page.close();
  });

  it('names the wrong network and offers to switch, adding it when the wallet lacks it', async () => {
    const { page, calls } = await openPage(env, {
      behaviour: {
        eth_chainId: () => '0x1',
        wallet_switchEthereumChain: () => { throw walletError(4902, 'Unrecognized chain ID'); },
        wallet_addEthereumChain: () => null,
      },
    });
    await page.goto(env.url);
    await page.waitForFunction(() => window.section9?.model);
    await page.click('#connect');
    await page.waitForFunction(() => /Wrong network/.test(document.getElementById('message').textContent));
    assert.match(await message(page), /your wallet is on chain 1; this page mints on chain 31337/);
    assert.equal(await page.locator('#switch').isVisible(), true);
    assert.equal(await page.locator('#mint').isDisabled(), true);
    await page.click('#switch');
    await page.waitForTimeout(500);
    const switched = calls.find((c) => c.includes('wallet_switchEthereumChain'));
    const added = calls.find((c) => c.includes('wallet_addEthereumChain'));
    assert.match(switched, /0x7a69/);
    assert.ok(added?.includes(env.rpc), `the network is added with the local RPC: ${added}`);
    await page.close();
  });

  it('refuses to mint when the deployed contract is bound to another model', async () => {
    const { page, errors } = await openPage(env);
    const deployment = JSON.parse(fs.readFileSync(path.join(GAN, 'static/deployment.json'), 'utf8'));
    const other = { ...deployment, modelId: `0x${'ab'.repeat(32)}` };
    await page.route('**/static/deployment.json', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(other) }));
    await page.goto(env.url);
    await page.waitForFunction(() => window.section9?.model);
    assert.match(await message(page), /is not the one the deployed contract mints \(0xabababab/);
    assert.equal(await page.evaluate(() => window.section9.mintable), false);
    await page.click('#connect');
    assert.match(await message(page), /is not the one the deployed contract mints/);
    assert.equal(await page.locator('#mint').isDisabled(), true);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('reports a truncated params file instead of proving', async () => {
    const { page, errors } = await openPage(env);
    const truncated = fs.readFileSync(path.join(GAN, 'static/params.bin')).subarray(0, 1000);
    await page.route('**/static/params.bin', (route) => route.fulfill({ status: 200, body: truncated }));
    await page.goto(env.url);
    await page.waitForFunction(() => /prover could not start/.test(document.getElementById('message').textContent), null, { timeout: 120_000 });
    assert.match(await message(page), /bad params file: params file has 1000 bytes/);
    await page.click('#connect');
    await page.click('#prove');
    await page.waitForFunction(() => /Proving failed/.test(document.getElementById('message').textContent), null, { timeout: 120_000 });
    assert.equal(await page.evaluate(() => window.section9.proof), null);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
