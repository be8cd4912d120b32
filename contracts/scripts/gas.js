// Gas report on Hardhat's EVM (in process): deployment sizes and gas, the verifier's gas for a
// real proof, and whole mints (verification, picture storage, token). Writes gas.json.
//   npm run gas      (after bash scripts/contracts.sh has made the proofs)
import fs from 'node:fs';
import path from 'node:path';
import { chain, deploy, proofFile, verifierCalldata, artifact, root } from '../test/helpers.js';
import { compileVerifier } from './compile.js';
import { deployVerifier } from './verifier.js';

/// Intrinsic gas of a transaction's calldata (EIP-2028) plus the 21,000 base.
function intrinsic(hex) {
  const bytes = Buffer.from(hex.slice(2), 'hex');
  return 21000 + bytes.reduce((sum, b) => sum + (b === 0 ? 4 : 16), 0);
}

const env = await chain();
const [alice, bob] = env.accounts;
const proofs = [proofFile('alice'), proofFile('bob')];
const c = await deploy(env, alice, `0x${proofs[0].model_id}`);

const data = verifierCalldata(proofs[0].instances, proofs[0].proof);
const verifyTx = Number(await env.client.estimateGas({ account: alice, to: c.verifier, data }));

const mints = [];
for (const [who, p] of [[alice, proofs[0]], [bob, proofs[1]]]) {
  const packed = await env.client.readContract({ address: c.art, abi: c.abi, functionName: 'pack', args: [p.image] });
  const hash = await env.wallet(who).writeContract({ address: c.art, abi: c.abi, functionName: 'mint', args: [packed, p.commitment, p.proof] });
  const receipt = await env.client.waitForTransactionReceipt({ hash });
  const tx = await env.client.getTransaction({ hash });
  mints.push({ gas: Number(receipt.gasUsed), packed_bytes: (packed.length - 2) / 2, calldata_bytes: (tx.input.length - 2) / 2, intrinsic: intrinsic(tx.input) });
}

const report = {
  verifier_deployed_bytes: artifact('Halo2Verifier').deployedSize,
  art_deployed_bytes: artifact('Section9Art').deployedSize,
  verifier_deploy_gas: Number(c.receipts.verifier.gasUsed),
  art_deploy_gas: Number(c.receipts.art.gasUsed),
  proof_bytes: (proofs[0].proof.length - 2) / 2,
  verify_tx_gas: verifyTx,
  verify_execution_gas: verifyTx - intrinsic(data),
  mints: mints.map((m, i) => ({ picture: ['alice', 'bob'][i], ...m })),
};
// The same generator's mint circuit laid out for the prover (generated/prover, made by
// scripts/contracts.sh with `collection new --optimize prover`): a faster proof, dearer
// verification.
const fast = artifact('Halo2Verifier', 'build/prover');
const fastProof = proofFile('alice', 'generated/prover');
const fastDeploy = async (c) => env.client.waitForTransactionReceipt({ hash: await env.wallet(alice).deployContract(c) });
const { address: fastAddress, receipts: fastReceipts } = await deployVerifier(fast, fastDeploy);
const fastData = verifierCalldata(fastProof.instances, fastProof.proof);
const fastTx = Number(await env.client.estimateGas({ account: alice, to: fastAddress, data: fastData }));
report.prover_layout = {
  k: Number(fast.header.k),
  parts_deployed_bytes: (fast.parts ?? [fast]).map((p) => p.deployedSize),
  deploy_gas: fastReceipts.reduce((sum, r) => sum + Number(r.gasUsed), 0),
  proof_bytes: (fastProof.proof.length - 2) / 2,
  verify_tx_gas: fastTx,
  verify_execution_gas: fastTx - intrinsic(fastData),
};
// Model circuits' verifiers (generated/models, made by scripts/contracts.sh): each part's size,
// deployment, and verification of the real proof.
report.models = {};
const modelDir = path.join(root, 'generated/models');
for (const file of fs.existsSync(modelDir) ? fs.readdirSync(modelDir).filter((f) => f.endsWith('.sol')).sort() : []) {
  const name = file.slice(0, -4);
  const v = compileVerifier(`generated/models/${file}`);
  const proof = JSON.parse(fs.readFileSync(path.join(modelDir, `${name}.proof.json`), 'utf8'));
  const deployContract = async (c) => env.client.waitForTransactionReceipt({ hash: await env.wallet(alice).deployContract(c) });
  const { address, receipts } = await deployVerifier(v, deployContract);
  const calldata = verifierCalldata(proof.instances.map(BigInt), proof.proof);
  const gas = Number(await env.client.estimateGas({ account: alice, to: address, data: calldata }));
  report.models[name] = {
    k: Number(v.header.k),
    instances: Number(v.header.instances),
    parts_deployed_bytes: v.parts.map((p) => p.deployedSize),
    deploy_gas: receipts.reduce((sum, r) => sum + Number(r.gasUsed), 0),
    proof_bytes: (proof.proof.length - 2) / 2,
    verify_tx_gas: gas,
    verify_execution_gas: gas - intrinsic(calldata),
  };
}
fs.writeFileSync(path.join(root, 'gas.json'), JSON.stringify(report, null, 2) + '\n');

const row = (k, v) => console.log(`${k.padEnd(44)} ${v.toLocaleString('en-US').padStart(10)}`);
row('verifier deployed size (bytes, limit 24,576)', report.verifier_deployed_bytes);
row('art contract deployed size (bytes)', report.art_deployed_bytes);
row('verifier deployment (gas)', report.verifier_deploy_gas);
row('art contract deployment (gas)', report.art_deploy_gas);
row('verification, whole call (gas)', report.verify_tx_gas);
row('verification, execution only (gas)', report.verify_execution_gas);
for (const [i, m] of mints.entries()) {
  row(`mint #${i + 1}: picture packed to (bytes of 3,072)`, m.packed_bytes);
  row(`mint #${i + 1}: whole transaction (gas)`, m.gas);
  row(`mint #${i + 1}:   of which calldata + base (gas)`, m.intrinsic);
}
const p = report.prover_layout;
console.log(`mint laid out for the prover (k = ${p.k}): verifier ${p.parts_deployed_bytes.map((b) => b.toLocaleString('en-US')).join(' + ')} bytes, ` +
  `proof ${p.proof_bytes.toLocaleString('en-US')} bytes, verification ${p.verify_execution_gas.toLocaleString('en-US')} gas (execution)`);
for (const [name, m] of Object.entries(report.models)) {
  console.log(`model ${name} (k = ${m.k}): verifier ${m.parts_deployed_bytes.map((b) => b.toLocaleString('en-US')).join(' + ')} bytes, ` +
    `deployment ${m.deploy_gas.toLocaleString('en-US')} gas, verification ${m.verify_execution_gas.toLocaleString('en-US')} gas (execution)`);
}
console.log('wrote gas.json');
