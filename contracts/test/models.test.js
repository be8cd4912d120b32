// Verifiers of model circuits (`section9 export-verifier --model m.s9`) on a real EVM: for each
// model of generated/models/ (made by scripts/contracts.sh from model/zoo: a compiled model, a
// proof with hashed inputs and public outputs, and its verifier), the verifier compiles within
// EIP-170 (split across contracts when one would not fit), accepts the real proof and refuses a
// flipped proof byte, another output, another input hash and a truncated proof.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { compileVerifier, EIP170_LIMIT } from '../scripts/compile.js';
import { chain, root, verifierCalldata } from './helpers.js';
import { deployVerifier } from '../scripts/verifier.js';

const dir = path.join(root, 'generated/models');
const models = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.sol')).map((f) => f.slice(0, -4)).sort() : [];

test('scripts/contracts.sh made model verifiers, one of them split across contracts', () => {
  assert.ok(models.length >= 3, `expected the zoo's model verifiers in ${dir}, found ${models.join(', ') || 'none'}`);
  const split = models.filter((m) => compileVerifier(`generated/models/${m}.sol`).parts.length > 1);
  assert.ok(split.length >= 1, 'no verifier needed splitting: the split path would go untested');
});

/// Calls the verifier; resolves to true when it accepts, false when it reverts.
async function accepts(client, account, to, data) {
  try {
    await client.call({ account, to, data });
    return true;
  } catch (e) {
    assert.match(e.message, /reverted/i, e.shortMessage);
    return false;
  }
}

for (const name of models) {
  test(`${name}: the verifier accepts its real proof and refuses tampered ones`, async () => {
    const v = compileVerifier(`generated/models/${name}.sol`);
    for (const part of v.parts) assert.ok(part.deployedSize <= EIP170_LIMIT, `${part.name}: ${part.deployedSize} bytes`);
    const file = JSON.parse(fs.readFileSync(path.join(dir, `${name}.proof.json`), 'utf8'));
    const instances = file.instances.map(BigInt);
    assert.equal(Number(v.header.instances), instances.length, 'the header states the number of public inputs');

    const { client, accounts, wallet } = await chain();
    const deployContract = async (c) => client.waitForTransactionReceipt({ hash: await wallet(accounts[0]).deployContract(c) });
    const { address: to, receipts } = await deployVerifier(v, deployContract);
    assert.equal(receipts.length, v.parts.length);
    if (v.parts.length > 1) {
      // A part accepts only the next part's exact code: here, the first part given itself.
      await assert.rejects(deployContract({ abi: v.parts[0].abi, bytecode: v.parts[0].bytecode, args: [to] }), /not the code of Halo2VerifierPart2|reverted/);
    }
    const call = (data) => accepts(client, accounts[0], to, data);

    assert.equal(await call(verifierCalldata(instances, file.proof)), true, 'the real proof');
    const proof = Buffer.from(file.proof.slice(2), 'hex');
    for (const at of [0, proof.length >> 1, proof.length - 1]) {
      const flipped = Buffer.from(proof);
      flipped[at] ^= 1;
      assert.equal(await call(verifierCalldata(instances, '0x' + flipped.toString('hex'))), false, `proof byte ${at} flipped`);
    }
    // The first instance is the input hash, the last an output.
    for (const i of [0, instances.length - 1]) {
      const other = instances.map((x, j) => (j === i ? x + 1n : x));
      assert.equal(await call(verifierCalldata(other, file.proof)), false, `instance ${i} changed`);
    }
    assert.equal(await call(verifierCalldata(instances, file.proof.slice(0, -64))), false, 'a truncated proof');
  });
}
