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
//   DRY_RUN       1: check everything below and print the cost, send nothing
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
//
// Before sending anything it checks the chain (scripts/preflight.js): that its EVM runs the
// instructions the contracts were compiled for (the collection contract needs Cancun), that
// it has the precompiles the verifier calls, and that the deployer can pay. A transaction that
// fails midway is named with what was already deployed.
import fs from 'node:fs';
import path from 'node:path';
import { createPublicClient, createWalletClient, encodeDeployData, getAddress, http, isAddress, zeroAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import * as knownChains from 'viem/chains';
import { artifact, root } from '../test/helpers.js';
import { isDevelopmentVerifier, LOCAL_CHAIN_ID } from './srs.js';
import { costCheck, creationGas, evmProblems } from './preflight.js';
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
// The contract takes the commitment as a field element (it reverts at r and above, after the
// verifier's deployment), and 0 is what it stores for weights built into the verifier.
const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
if (committed && (weightCommitment === 0n || weightCommitment >= R)) {
  fail(`WEIGHT_COMMITMENT ${weightText} is not a commitment: it must be a nonzero BN254 scalar below r (the commitment \`section9 compile --weights committed\` prints)`);
}

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
const artArtifact = artifact('Section9Art');
const artArgs = (verifier) => [name, symbol, verifier, `0x${modelId}`, weightCommitment, BigInt(width), BigInt(height), royaltyReceiver, BigInt(royaltyBps)];

console.log(`deploying to chain ${chainId} (${chain.name}) at ${url} from ${account.address}`);
console.log(`collection "${name}" (${symbol}): ${width}×${height} pictures, royalty ${royaltyBps / 100} % to ${getAddress(royaltyReceiver)}`);
if (devSrs) console.log('WARNING: the verifier trusts the INSECURE development SRS: local chain only');

// The chain, before anything is sent. (Artifacts built before the EVM version was recorded
// were compiled for the compilers' defaults: Paris for the verifier, Cancun for the collection.)
const verifierParts = verifierArtifact.parts ?? [verifierArtifact];
const creations = [
  ...verifierParts.map((p) => ({ name: p.name ?? 'Halo2Verifier', gas: creationGas(p.bytecode, p.deployedSize, 100_000n) })),
  { name: 'Section9Art', gas: creationGas(encodeDeployData({ abi: artArtifact.abi, bytecode: artArtifact.bytecode, args: artArgs(zeroAddress) }), artArtifact.deployedSize) },
];
let problems, cost;
try {
  problems = await evmProblems(client, { 'the verifier': verifierArtifact.evmVersion ?? 'paris', 'the collection contract': artArtifact.evmVersion ?? 'cancun' });
  const [price, balance] = await Promise.all([client.getGasPrice(), client.getBalance({ address: account.address })]);
  cost = costCheck(creations, price, balance, account.address, chain.nativeCurrency.symbol);
} catch (e) {
  fail(`could not check chain ${chainId} before deploying (${e.shortMessage ?? e.message}); nothing was sent`);
}
if (cost.problem) problems.push(cost.problem);
if (problems.length) fail(`refusing to deploy to chain ${chainId} (${chain.name}); nothing was sent:\n` + problems.map((p) => `  - ${p}`).join('\n'));
console.log(`checked: the chain runs both contracts' code and the verifier's precompiles; ${cost.summary}`);
if (process.env.DRY_RUN === '1') {
  console.log('dry run: nothing was sent');
  process.exit(0);
}

const deployed = [];
/// Deploys `bytecode` with `args`; fails (exit 1) on any error, naming what is already deployed.
async function deployContract(name, { abi, bytecode, args }) {
  let hash, receipt;
  try {
    hash = await wallet.deployContract({ abi, bytecode, args });
    receipt = await client.waitForTransactionReceipt({ hash });
  } catch (e) {
    receipt = { error: e.shortMessage ?? e.message };
  }
  if (receipt.status !== 'success') {
    fail(
      `deploying ${name} ${receipt.error ? `failed: ${receipt.error}` : 'reverted'}${hash ? ` (transaction ${hash})` : ''}` +
        (deployed.length ? `; already deployed, and not reused by a new run: ${deployed.join(', ')}` : '; nothing was deployed'),
    );
  }
  deployed.push(`${name} ${receipt.contractAddress}`);
  console.log(`${name.padEnd(18)} ${receipt.contractAddress}  (${(bytecode.length - 2) / 2} bytes of creation code, ${receipt.gasUsed} gas)`);
  return receipt;
}

const verifier = (await deployVerifier(verifierArtifact, (c, partName) => deployContract(partName, c))).address;
const art = (await deployContract('Section9Art', { abi: artArtifact.abi, bytecode: artArtifact.bytecode, args: artArgs(verifier) })).contractAddress;
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
  abi: artArtifact.abi,
};
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify(deployment, null, 2) + '\n');
console.log(`wrote ${path.relative(process.cwd(), out)}`);
