// Deploys the generated verifier and the art contract to a JSON-RPC endpoint and writes their
// addresses where the mint page reads them.
//
//   RPC_URL      endpoint (default http://127.0.0.1:8545, a local `hardhat node`)
//   PRIVATE_KEY  deployer key (default: Hardhat's first development account — local chains only)
//   MODEL_ID     the model id the token is bound to (64 hex; `section9 info` prints it)
//   OUT          where to write the addresses (default ../web/static/deployment.json)
import fs from 'node:fs';
import path from 'node:path';
import { createPublicClient, createWalletClient, http } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { artifact, root } from '../test/helpers.js';

// Hardhat's well-known first development account: funded on every local Hardhat chain, never
// anywhere else.
const HARDHAT_KEY_0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

const url = process.env.RPC_URL ?? 'http://127.0.0.1:8545';
const key = process.env.PRIVATE_KEY ?? HARDHAT_KEY_0;
const modelId = (process.env.MODEL_ID ?? '').replace(/^0x/, '');
const out = path.resolve(root, process.env.OUT ?? '../web/static/deployment.json');
if (!/^[0-9a-fA-F]{64}$/.test(modelId)) fail('MODEL_ID must be the 64-hex model id (`section9 info` prints it)');
if (!/^0x[0-9a-fA-F]{64}$/.test(key)) fail('PRIVATE_KEY must be 0x and 64 hex digits');

const account = privateKeyToAccount(key);
const transport = http(url, { retryCount: 0 });
const client = createPublicClient({ transport });
let chainId;
try {
  chainId = await client.getChainId();
} catch (e) {
  fail(`no JSON-RPC endpoint answers at ${url} (${e.shortMessage ?? e.message})`);
}
if (key === HARDHAT_KEY_0 && chainId !== 31337) fail(`refusing to use Hardhat's public development key on chain ${chainId}: set PRIVATE_KEY`);
const wallet = createWalletClient({ account, transport, chain: { id: chainId, name: `chain ${chainId}`, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [url] } } } });

async function deploy(name, args) {
  const a = artifact(name);
  const hash = await wallet.deployContract({ abi: a.abi, bytecode: a.bytecode, args });
  const receipt = await client.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') fail(`deploying ${name} reverted (transaction ${hash})`);
  console.log(`${name.padEnd(14)} ${receipt.contractAddress}  (${a.deployedSize} bytes, ${receipt.gasUsed} gas)`);
  return receipt.contractAddress;
}

console.log(`deploying to chain ${chainId} at ${url} from ${account.address}`);
const verifier = await deploy('Halo2Verifier', []);
const art = await deploy('Section9Art', [verifier, `0x${modelId}`]);
const deployment = { chainId, rpcUrl: url, verifier, art, modelId: `0x${modelId}`, abi: artifact('Section9Art').abi };
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify(deployment, null, 2) + '\n');
console.log(`wrote ${path.relative(process.cwd(), out)}`);
