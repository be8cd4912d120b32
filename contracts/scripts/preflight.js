// What deploy.js checks on the target chain before it sends anything: that the chain's EVM runs
// the code the contracts were compiled for, that it has the precompiles every Halo2 KZG
// verifier calls, and that the deployer can pay for the deployment. A chain that fails any of
// these would take the verifier's gas and then refuse the collection, or accept both and refuse
// every mint.
import { formatEther, formatGwei, hexToBytes } from 'viem';

/// The EVM versions solc targets, oldest first, and what each added that a chain may lack,
/// with creation code that uses it and returns nothing: the creation succeeds exactly when the
/// chain runs the instruction.
const EVM_VERSIONS = ['paris', 'shanghai', 'cancun'];
const INSTRUCTIONS = {
  shanghai: [{ name: 'PUSH0', eip: 3855, fork: 'Shanghai', code: '0x5f5ff3' }],
  cancun: [
    // MCOPY(dest 0, offset 0, size 1), then RETURN(0, 0).
    { name: 'MCOPY', eip: 5656, fork: 'Cancun', code: '0x6001600060005e60006000f3' },
    // TSTORE(0, 1), TLOAD(0), POP, then RETURN(0, 0).
    { name: 'TSTORE/TLOAD', eip: 1153, fork: 'Cancun', code: '0x600160005d60005c5060006000f3' },
  ],
};

/// The instructions code compiled for `evmVersion` may use beyond Paris.
export function instructionsFor(evmVersion) {
  const at = EVM_VERSIONS.indexOf(evmVersion);
  if (at < 0) throw new Error(`unknown EVM version ${evmVersion} (known: ${EVM_VERSIONS.join(', ')})`);
  return EVM_VERSIONS.slice(1, at + 1).flatMap((v) => INSTRUCTIONS[v]);
}

const word = (n) => n.toString(16).padStart(64, '0');
// The BN254 generator (1, 2) and its double.
const G1 = word(1n) + word(2n);
const G1_DOUBLE =
  '030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd3' +
  '15ed738c0e0a7c92e7845f96b2ae9c0a68a6a449e3538fc7ff3ebf7a5a18a2c4';

/// The precompiles a Halo2 KZG verifier calls, each with an input whose answer is known. A
/// chain without one answers a call to its address with success and no data, so the answer is
/// compared, not just the call's success.
export const PRECOMPILES = [
  { address: '0x0000000000000000000000000000000000000005', name: 'modexp', eip: 198, input: `0x${word(1n)}${word(1n)}${word(1n)}030507`, output: '0x05' },
  { address: '0x0000000000000000000000000000000000000006', name: 'BN254 point addition (ecAdd)', eip: 196, input: `0x${G1}${G1}`, output: `0x${G1_DOUBLE}` },
  { address: '0x0000000000000000000000000000000000000007', name: 'BN254 scalar multiplication (ecMul)', eip: 196, input: `0x${G1}${word(2n)}`, output: `0x${G1_DOUBLE}` },
  { address: '0x0000000000000000000000000000000000000008', name: 'BN254 pairing check (ecPairing)', eip: 197, input: '0x', output: `0x${word(1n)}` },
];

const reason = (e) => String(e.details ?? e.shortMessage ?? e.message ?? e).split('\n')[0].replace(/^Error: /, '');

/// The problems that keep `client`'s chain from running contracts compiled for `evmVersions`
/// and a Halo2 verifier: one sentence each, none when it runs them.
export async function evmProblems(client, evmVersions) {
  const problems = [];
  const needed = new Map();
  for (const [contract, version] of Object.entries(evmVersions)) {
    for (const i of instructionsFor(version)) needed.set(i.name, { ...i, users: [...(needed.get(i.name)?.users ?? []), `${contract} (${version})`] });
  }
  for (const i of needed.values()) {
    try {
      await client.call({ data: i.code });
    } catch (e) {
      problems.push(`the chain does not run ${i.name} (EIP-${i.eip}, ${i.fork}), which ${i.users.join(' and ')} uses: ${reason(e)}`);
    }
  }
  for (const p of PRECOMPILES) {
    let output;
    try {
      ({ data: output } = await client.call({ to: p.address, data: p.input }));
    } catch (e) {
      output = `an error (${reason(e)})`;
    }
    if ((output ?? '0x').toLowerCase() !== p.output) {
      const got = !output || output === '0x' ? 'nothing' : output.startsWith('0x') ? `${output.slice(0, 18)}…` : output;
      problems.push(`the chain has no working ${p.name} precompile at ${p.address} (EIP-${p.eip}), which the verifier calls: a known input answered ${got}`);
    }
  }
  return problems;
}

/// The gas a contract creation carrying `bytecode` (creation code with its constructor
/// arguments) costs, leaving `deployedSize` bytes of code: the transaction, the creation, the
/// calldata, EIP-3860's initcode words and EIP-170's 200 gas per deployed byte, plus
/// `constructor` for what the constructor runs. An estimate: the chain's own `eth_estimateGas`
/// cannot run constructors that check contracts not yet deployed.
export function creationGas(bytecode, deployedSize, constructor = 300_000n) {
  const bytes = hexToBytes(bytecode);
  const calldata = bytes.reduce((sum, b) => sum + (b === 0 ? 4n : 16n), 0n);
  return 21_000n + 32_000n + calldata + 2n * BigInt(Math.ceil(bytes.length / 32)) + 200n * BigInt(deployedSize) + constructor;
}

/// What deploying `creations` ({ name, gas }) costs at `price` (the network's suggestion,
/// `eth_gasPrice`: base fee plus tip on EIP-1559 chains) against `balance`: a summary
/// line and, when the balance cannot pay it, the problem.
export function costCheck(creations, price, balance, address, currency = 'ETH') {
  const gas = creations.reduce((sum, c) => sum + c.gas, 0n);
  const cost = gas * price;
  const summary =
    `about ${gas.toLocaleString('en-US')} gas for ${creations.map((c) => c.name).join(', ')}: ` +
    `${formatEther(cost)} ${currency} at ${formatGwei(price)} gwei (a rollup's L1 data fee comes on top); ` +
    `the deployer ${address} holds ${formatEther(balance)} ${currency}`;
  const problem =
    balance < cost
      ? `the deployer ${address} holds ${formatEther(balance)} ${currency}, and deploying takes about ${formatEther(cost)} ${currency} ` +
        `(${gas.toLocaleString('en-US')} gas at ${formatGwei(price)} gwei): fund it, or wait for cheaper gas`
      : null;
  return { gas, cost, summary, problem };
}
