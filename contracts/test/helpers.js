// Shared by the tests and the gas report: an in-process Hardhat EVM driven through viem, the
// compiled artifacts, and the proof files `section9 prove` wrote under generated/.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPublicClient, createWalletClient, custom, getAddress } from 'viem';
import { hardhat } from 'viem/chains';

const require = createRequire(import.meta.url);
export const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/// A compiled contract from build/ (or from $BUILD_DIR, e.g. build/imported: the verifier of
/// imported ceremony parameters).
export function artifact(name, dir = process.env.BUILD_DIR ?? 'build') {
  const file = path.join(root, dir, `${name}.json`);
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

/// Deploys the verifier and the art contract (bound to `modelId`) from `from`.
export async function deploy({ client, wallet }, from, modelId) {
  const v = artifact('Halo2Verifier');
  const a = artifact('Section9Art');
  const w = wallet(from);
  const vHash = await w.deployContract({ abi: v.abi, bytecode: v.bytecode, args: [] });
  const vReceipt = await client.waitForTransactionReceipt({ hash: vHash });
  const aHash = await w.deployContract({ abi: a.abi, bytecode: a.bytecode, args: [vReceipt.contractAddress, modelId] });
  const aReceipt = await client.waitForTransactionReceipt({ hash: aHash });
  return { verifier: vReceipt.contractAddress, art: aReceipt.contractAddress, abi: a.abi, receipts: { verifier: vReceipt, art: aReceipt } };
}

/// The verifier's calldata: the public inputs as 32-byte words, then the proof.
export function verifierCalldata(instances, proof) {
  return '0x' + instances.map((x) => x.toString(16).padStart(64, '0')).join('') + proof.slice(2);
}
