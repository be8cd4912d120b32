// Compiles the contracts with solc-js (no downloads) into build/<Name>.json
// ({ abi, bytecode, deployedBytecode, deployedSize }, and for the verifier `header`: what its
// generated header states — model, k, SRS fingerprint and kind; deploy.js reads it).
//
// - generated/Halo2Verifier.sol — written by `section9 export-verifier`; solc 0.8.19 with the
//   optimizer off (snark-verifier's single assembly block is "stack too deep" with it on), for
//   the Paris EVM (no PUSH0: it runs on every chain with the BN254 precompiles). A
//   verifier too large for one contract comes split (Halo2Verifier deploys its parts): each
//   part is checked against EIP-170, the creation code against EIP-3860.
// - src/Section9Art.sol — OpenZeppelin 5 needs solc ≥ 0.8.24 and the Cancun EVM (its Bytes
//   library uses MCOPY): solc 0.8.28, optimizer on. Each artifact records its `evmVersion`;
//   deploy.js checks the chain runs it before sending anything (scripts/preflight.js).
//
// Exits non-zero with the compiler's message on any error, and when a contract is over the
// EIP-170 limit of 24,576 deployed bytes.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const EIP170_LIMIT = 24576;

function findImports(importPath) {
  for (const base of [path.join(root, 'node_modules'), root]) {
    const file = path.join(base, importPath);
    if (fs.existsSync(file)) return { contents: fs.readFileSync(file, 'utf8') };
  }
  return { error: `not found: ${importPath}` };
}

/// The EVM each contract is compiled for (deploy.js checks the chain supports it).
export const VERIFIER_EVM = 'paris';
export const ART_EVM = 'cancun';

function compile(solc, file, optimizer, evmVersion) {
  const source = path.resolve(root, file);
  if (!fs.existsSync(source)) {
    throw new Error(`${file} is missing` + (file.startsWith('generated/')
      ? ' — generate it with `section9 export-verifier --dev-srs --out contracts/generated/Halo2Verifier.sol` (bash scripts/contracts.sh does it all)'
      : ''));
  }
  const input = {
    language: 'Solidity',
    sources: { [file]: { content: fs.readFileSync(source, 'utf8') } },
    settings: {
      optimizer: { enabled: optimizer, runs: 200 },
      evmVersion,
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(`${file}:\n` + errors.map((e) => e.formattedMessage).join('\n'));
  return output.contracts[file];
}

/// The `// key: value` lines `section9 export-verifier` writes at the top of the verifier.
export function header(source) {
  const fields = {};
  for (const line of source.split('\n')) {
    const m = /^\/\/ ([a-z-]+): (.*)$/.exec(line);
    if (m) fields[m[1]] = m[2];
    else if (!line.startsWith('//')) break;
  }
  return fields;
}

const OVER_LIMIT_WHY = ': the generated verifier grows with every column, lookup and gate of its circuit; ' +
  '`section9 export-verifier` splits one estimated over the limit across contracts, and this part was estimated ' +
  'under it: narrower dot rows (`--width`) or fewer kinds of operations make it smaller';

/// EIP-3860: the most creation code a deployment may carry (a part of a split verifier carries
/// its own code and, to check it, the next part's).
export const EIP3860_LIMIT = 49152;

/// Compiles a generated verifier (`file`, relative to contracts/): its artifact — the entry
/// contract `Halo2Verifier` (the address callers use) and `parts`, every contract of the file in
/// call order (one for a verifier that fits in one; see scripts/verifier.js to deploy them).
/// Throws when a part is over EIP-170 or its creation code over EIP-3860.
export function compileVerifier(file) {
  const solc = require('solc');
  const contracts = compile(solc, file, false, VERIFIER_EVM);
  if (!contracts.Halo2Verifier) throw new Error(`${file} has no contract Halo2Verifier`);
  const order = (name) => (name === 'Halo2Verifier' ? 1 : Number(/^Halo2VerifierPart(\d+)$/.exec(name)?.[1] ?? NaN));
  const parts = Object.entries(contracts)
    .map(([name, c]) => ({
      name,
      abi: c.abi,
      bytecode: '0x' + c.evm.bytecode.object,
      deployedBytecode: '0x' + c.evm.deployedBytecode.object,
      deployedSize: c.evm.deployedBytecode.object.length / 2,
    }))
    .sort((a, b) => order(a.name) - order(b.name));
  for (const p of parts) {
    if (!(order(p.name) >= 1)) throw new Error(`${file}: unexpected contract ${p.name}`);
    if (p.deployedSize > EIP170_LIMIT) {
      throw new Error(`${p.name} is ${p.deployedSize} bytes deployed, over the EIP-170 limit of ${EIP170_LIMIT}${OVER_LIMIT_WHY}`);
    }
    const creation = (p.bytecode.length - 2) / 2;
    if (creation > EIP3860_LIMIT) {
      throw new Error(`${p.name}'s creation code is ${creation} bytes, over the EIP-3860 limit of ${EIP3860_LIMIT}`);
    }
  }
  const [first] = parts;
  return {
    contractName: 'Halo2Verifier',
    header: header(fs.readFileSync(path.resolve(root, file), 'utf8')),
    compiler: solc.version(),
    optimizer: false,
    evmVersion: VERIFIER_EVM,
    abi: first.abi,
    bytecode: first.bytecode,
    deployedBytecode: first.deployedBytecode,
    deployedSize: parts.reduce((sum, p) => sum + p.deployedSize, 0),
    parts,
  };
}

/// Builds into build/ — or, with VERIFIER_SOL and BUILD_DIR set, another verifier (e.g. one
/// exported with imported ceremony params) into another directory.
export function build() {
  const out = path.resolve(root, process.env.BUILD_DIR ?? 'build');
  fs.mkdirSync(out, { recursive: true });
  const sizes = {};
  const verifier = compileVerifier(process.env.VERIFIER_SOL ?? 'generated/Halo2Verifier.sol');
  fs.writeFileSync(path.join(out, 'Halo2Verifier.json'), JSON.stringify(verifier, null, 2) + '\n');
  for (const p of verifier.parts) sizes[p.name] = p.deployedSize;
  const solc = require('solc-0.8.28');
  const art = compile(solc, 'src/Section9Art.sol', true, ART_EVM).Section9Art;
  const artifact = {
    contractName: 'Section9Art',
    compiler: solc.version(),
    optimizer: true,
    evmVersion: ART_EVM,
    abi: art.abi,
    bytecode: '0x' + art.evm.bytecode.object,
    deployedBytecode: '0x' + art.evm.deployedBytecode.object,
    deployedSize: art.evm.deployedBytecode.object.length / 2,
  };
  fs.writeFileSync(path.join(out, 'Section9Art.json'), JSON.stringify(artifact, null, 2) + '\n');
  sizes.Section9Art = artifact.deployedSize;
  if (artifact.deployedSize > EIP170_LIMIT) {
    throw new Error(`Section9Art is ${artifact.deployedSize} bytes deployed, over the EIP-170 limit of ${EIP170_LIMIT}`);
  }
  return sizes;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const sizes = build();
    for (const [name, size] of Object.entries(sizes)) {
      console.log(`${name.padEnd(18)} ${String(size).padStart(6)} bytes deployed (EIP-170 limit ${EIP170_LIMIT})`);
    }
  } catch (e) {
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
}
