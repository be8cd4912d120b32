// Shared by the tests and the gas report: an in-process Hardhat EVM driven through viem, the
// compiled artifacts, and the proof files `section9 prove` wrote under generated/.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { BaseError, ContractFunctionRevertedError, createPublicClient, createWalletClient, custom, decodeErrorResult, getAddress } from 'viem';
import { hardhat } from 'viem/chains';
import { deployVerifier } from '../scripts/verifier.js';

const require = createRequire(import.meta.url);
export const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/// A compiled contract from build/ (or from $BUILD_DIR, e.g. build/imported: the verifier of
/// imported ceremony parameters).
export function artifact(name, dir = process.env.BUILD_DIR ?? 'build') {
  const file = path.resolve(root, dir, `${name}.json`);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\``);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/// A proof file written by `section9 prove` (see crate/src/prover/proof.rs), from generated/
/// (development SRS) or another directory (generated/imported: imported ceremony params).
export function proofFile(name, dir = 'generated') {
  const file = path.join(root, dir, `proof-${name}.json`);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: bash scripts/contracts.sh makes it`);
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  return {
    ...json,
    minter: getAddress(json.minter),
    image: `0x${json.picture.rgb}`,
    commitment: BigInt(json.commitment),
    instances: json.instances.map(BigInt),
  };
}

let shared;

/// Hardhat's EVM, in process, with its funded accounts: reset on first use, then shared by
/// every test of the process (each deploys its own contracts).
export function chain() {
  shared ??= connect();
  return shared;
}

async function connect() {
  const hre = require('hardhat');
  await hre.network.provider.request({ method: 'hardhat_reset', params: [] });
  const transport = custom(hre.network.provider);
  const client = createPublicClient({ chain: hardhat, transport });
  const accounts = (await client.request({ method: 'eth_accounts' })).map((a) => getAddress(a));
  const wallet = (account) => createWalletClient({ chain: hardhat, transport, account });
  return { client, accounts, wallet };
}

/// The art contract's constructor arguments, in order, from named settings: the collection as
/// deploy.js makes it by default (a 32×32 "Section 9" with 5 % to `royaltyReceiver`).
export function artArgs({ name = 'Section 9', symbol = 'S9', verifier, modelId, weightCommitment = 0n, width = 32, height = 32, royaltyReceiver, royaltyBps = 500 }) {
  return [name, symbol, verifier, modelId, BigInt(weightCommitment), BigInt(width), BigInt(height), royaltyReceiver, BigInt(royaltyBps)];
}

/// Deploys the verifier and the art contract (bound to `modelId`) from `from`; `settings`
/// override artArgs' defaults (the royalty goes to `from` unless set).
export async function deploy({ client, wallet }, from, modelId, settings = {}) {
  const v = artifact('Halo2Verifier');
  const a = artifact('Section9Art');
  const w = wallet(from);
  const { receipts: [vReceipt] } = await deployVerifier(v, async (c) => client.waitForTransactionReceipt({ hash: await w.deployContract(c) }));
  const args = artArgs({ royaltyReceiver: from, ...settings, verifier: vReceipt.contractAddress, modelId });
  const aHash = await w.deployContract({ abi: a.abi, bytecode: a.bytecode, args });
  const aReceipt = await client.waitForTransactionReceipt({ hash: aHash });
  return { verifier: vReceipt.contractAddress, art: aReceipt.contractAddress, abi: a.abi, receipts: { verifier: vReceipt, art: aReceipt } };
}

/// The verifier's calldata: the public inputs as 32-byte words, then the proof.
export function verifierCalldata(instances, proof) {
  return '0x' + instances.map((x) => x.toString(16).padStart(64, '0')).join('') + proof.slice(2);
}

/// The custom error a call (a promise) reverts with, `{ name, args }`, or null if it succeeds.
export async function revertReason(call, abi) {
  try {
    await call;
    return null;
  } catch (e) {
    // viem decodes the revert when the node reports it in the standard shape; Hardhat's
    // in-process EVM puts the return data in its message instead.
    const reverted = e instanceof BaseError && e.walk((x) => x instanceof ContractFunctionRevertedError);
    if (reverted?.data) return { name: reverted.data.errorName, args: reverted.data.args };
    const data = /return data: (0x[0-9a-fA-F]*)/.exec(e.message)?.[1];
    assert.ok(data, `expected a contract revert, got: ${e.shortMessage ?? e.message.slice(0, 200)}`);
    const decoded = decodeErrorResult({ abi, data });
    return { name: decoded.errorName, args: decoded.args };
  }
}
