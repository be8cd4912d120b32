// Deploys the generated verifier and the art contract to a JSON-RPC endpoint and writes their
// addresses where the mint page reads them.
//
//   RPC_URL       endpoint (default http://127.0.0.1:8545, a local `hardhat node`)
//   PRIVATE_KEY   deployer key (default: Hardhat's first development account — local chains only)
//   MODEL_ID      the model id the token is bound to (64 hex; default: the one the generated
//                 verifier's header names; `section9 info` prints it)
//   PAGE_RPC_URL  the endpoint the mint page reads the chain through (default RPC_URL; set it
//                 when RPC_URL carries a private API key)
//   CHAIN_NAME    the chain's name on the page (default: viem's name for the chain id)
//   OUT           where to write the addresses (default ../web/static/deployment.json)
//
// The collection (fixed at deployment; checked before anything is sent):
//   NAME, SYMBOL      the ERC-721 name and symbol (default "Section 9", "S9")
//   ROYALTY_RECEIVER  the artist, paid the ERC-2981 royalty on sales (default: the deployer)
//   ROYALTY_BPS       the royalty in basis points, 0 to 10,000 (default 500: 5 % of each sale)
//   WIDTH, HEIGHT     the picture size in pixels (default: the verifier header's `width` and
//                     `height` if it states them, else 32 × 32; at most 8,100 pixels)
//
// A verifier of the development SRS (its secret is public: anyone can forge proofs and mint)
// is deployed to the local chain (31337) only. The script knows one by its generated header
// and, whatever the header says, by the development SRS's [s]G2 in its bytecode.
import fs from 'node:fs';
import path from 'node:path';
import { createPublicClient, createWalletClient, getAddress, http, isAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import * as knownChains from 'viem/chains';
import { artifact, root } from '../test/helpers.js';
import { isDevelopmentVerifier, LOCAL_CHAIN_ID } from './srs.js';
import { deployVerifier } from './verifier.js';

// Hardhat's well-known first development account: funded on every local Hardhat chain, never
// anywhere else.
const HARDHAT_KEY_0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

const url = process.env.RPC_URL ?? 'http://127.0.0.1:8545';
const key = process.env.PRIVATE_KEY ?? HARDHAT_KEY_0;
const verifierArtifact = artifact('Halo2Verifier');
const header = verifierArtifact.header ?? {};
const headerModel = (header.model ?? '').replace(/^0x/, '');
const modelId = (process.env.MODEL_ID ?? headerModel).replace(/^0x/, '');
const out = path.resolve(root, process.env.OUT ?? '../web/static/deployment.json');
if (!/^[0-9a-fA-F]{64}$/.test(modelId)) fail('MODEL_ID must be the 64-hex model id (`section9 info` prints it)');
if (headerModel && headerModel.toLowerCase() !== modelId.toLowerCase()) {
  fail(`MODEL_ID 0x${modelId} is not the model the verifier was generated for (0x${headerModel})`);
}
if (!/^0x[0-9a-fA-F]{64}$/.test(key)) fail('PRIVATE_KEY must be 0x and 64 hex digits');

/// A whole number from the environment (or `fallback`), within [min, max].
function integer(variable, fallback, min, max) {
  const text = String(process.env[variable] ?? fallback).trim();
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) fail(`${variable} must be a whole number from ${min} to ${max}`);
  return Number(text);
}

// The constructor refuses bad settings too, but only after the verifier's deployment.
const MAX_PIXELS = 8100;
const name = process.env.NAME ?? 'Section 9';
const symbol = process.env.SYMBOL ?? 'S9';
if (!name || !symbol) fail('NAME and SYMBOL must not be empty');
const width = integer('WIDTH', header['picture-width'] ?? 32, 1, MAX_PIXELS);
const height = integer('HEIGHT', header['picture-height'] ?? 32, 1, MAX_PIXELS);
if (width * height > MAX_PIXELS) fail(`a ${width}×${height} picture is over the contract's ${MAX_PIXELS} pixels`);
for (const [side, value] of Object.entries({ width, height })) {
  const stated = header[`picture-${side}`];
  if (stated !== undefined && Number(stated) !== value) {
    fail(`${side.toUpperCase()} ${value} is not the picture ${side} the verifier was generated for (${stated})`);
  }
}
const royaltyBps = integer('ROYALTY_BPS', 500, 0, 10000);
// A verifier of committed weights serves every model of its shape; the collection names whose.
const committed = header.weights === 'committed';
const weightText = process.env.WEIGHT_COMMITMENT ?? '';
if (committed && !/^0x[0-9a-fA-F]{64}$/.test(weightText)) {
  fail('this verifier checks committed weights: set WEIGHT_COMMITMENT to the artist\'s commitment (0x + 64 hex; `section9 compile --weights committed` prints it)');
}
if (!committed && weightText) fail('WEIGHT_COMMITMENT is for a verifier of committed weights; this one has the weights built in');
const weightCommitment = committed ? BigInt(weightText) : 0n;

const account = privateKeyToAccount(key);
const royaltyReceiver = process.env.ROYALTY_RECEIVER ?? account.address;
if (!isAddress(royaltyReceiver, { strict: false }) || /^0x0{40}$/.test(royaltyReceiver)) fail('ROYALTY_RECEIVER must be a nonzero 0x address');
const transport = http(url, { retryCount: 0 });
const client = createPublicClient({ transport });
let chainId;
try {
  chainId = await client.getChainId();
} catch (e) {
  fail(`no JSON-RPC endpoint answers at ${url} (${e.shortMessage ?? e.message})`);
}
const devSrs = isDevelopmentVerifier(verifierArtifact);
if (devSrs && chainId !== LOCAL_CHAIN_ID) {
  fail(
    `refusing to deploy a verifier of the INSECURE development SRS to chain ${chainId}: its secret is public, so anyone could ` +
      'forge proofs and mint. Import a ceremony file (`section9 srs import FILE.ptau --out FILE.srs`) and export the verifier ' +
      'and the page with `--params FILE.srs` (README: "Deploying to a real chain").',
  );
}
if (key === HARDHAT_KEY_0 && chainId !== LOCAL_CHAIN_ID) fail(`refusing to use Hardhat's public development key on chain ${chainId}: set PRIVATE_KEY`);
const known = chainId === LOCAL_CHAIN_ID ? null : Object.values(knownChains).find((c) => c?.id === chainId);
const chain = {
  id: chainId,
  name: process.env.CHAIN_NAME ?? known?.name ?? (chainId === LOCAL_CHAIN_ID ? 'Section 9 local chain' : `chain ${chainId}`),
  nativeCurrency: known?.nativeCurrency ?? { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [url] } },
};
const wallet = createWalletClient({ account, transport, chain });

/// Deploys `bytecode` with `args`; fails (exit 1) on a revert.
async function deployContract(name, { abi, bytecode, args }) {
  const hash = await wallet.deployContract({ abi, bytecode, args });
  const receipt = await client.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') fail(`deploying ${name} reverted (transaction ${hash})`);
  console.log(`${name.padEnd(18)} ${receipt.contractAddress}  (${(bytecode.length - 2) / 2} bytes of creation code, ${receipt.gasUsed} gas)`);
  return receipt;
}

async function deploy(name, args) {
  const a = artifact(name);
  return (await deployContract(name, { abi: a.abi, bytecode: a.bytecode, args })).contractAddress;
}

console.log(`deploying to chain ${chainId} (${chain.name}) at ${url} from ${account.address}`);
console.log(`collection "${name}" (${symbol}): ${width}×${height} pictures, royalty ${royaltyBps / 100} % to ${getAddress(royaltyReceiver)}`);
if (devSrs) console.log('WARNING: the verifier trusts the INSECURE development SRS: local chain only');
const verifier = (await deployVerifier(verifierArtifact, (c, partName) => deployContract(partName, c))).address;
const art = await deploy('Section9Art', [name, symbol, verifier, `0x${modelId}`, weightCommitment, BigInt(width), BigInt(height), royaltyReceiver, BigInt(royaltyBps)]);
const deployment = {
  chainId,
  chainName: chain.name,
  nativeCurrency: chain.nativeCurrency,
  rpcUrl: process.env.PAGE_RPC_URL ?? url,
  ...(known?.blockExplorers?.default?.url ? { explorerUrl: known.blockExplorers.default.url } : {}),
  verifier,
  art,
  modelId: `0x${modelId}`,
  name,
  symbol,
  width,
  height,
  royalty: { receiver: getAddress(royaltyReceiver), bps: royaltyBps },
  srsFingerprint: header['srs-fingerprint'] ?? null,
  devSrs,
  abi: artifact('Section9Art').abi,
};
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify(deployment, null, 2) + '\n');
console.log(`wrote ${path.relative(process.cwd(), out)}`);
