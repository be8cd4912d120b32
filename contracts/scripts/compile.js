// Compiles the contracts with solc-js (no downloads) into build/<Name>.json
// ({ abi, bytecode, deployedBytecode, deployedSize }, and for the verifier `header`: what its
// generated header states — model, k, SRS fingerprint and kind; deploy.js reads it).
//
// - generated/Halo2Verifier.sol — written by `section9 export-verifier`; solc 0.8.19 with the
//   optimizer off (snark-verifier's single assembly block is "stack too deep" with it on).
// - src/Section9Art.sol — OpenZeppelin 5 needs solc ≥ 0.8.24: solc 0.8.28, optimizer on.
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

function compile(solc, file, optimizer) {
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

/// Builds into build/ — or, with VERIFIER_SOL and BUILD_DIR set, another verifier (e.g. one
/// exported with imported ceremony params) into another directory.
export function build() {
  const out = path.resolve(root, process.env.BUILD_DIR ?? 'build');
  fs.mkdirSync(out, { recursive: true });
  const units = [
    [require('solc'), process.env.VERIFIER_SOL ?? 'generated/Halo2Verifier.sol', false, ['Halo2Verifier']],
    [require('solc-0.8.28'), 'src/Section9Art.sol', true, ['Section9Art']],
  ];
  const sizes = {};
  for (const [solc, file, optimizer, names] of units) {
    const contracts = compile(solc, file, optimizer);
    for (const name of names) {
      const c = contracts[name];
      const deployedSize = c.evm.deployedBytecode.object.length / 2;
      const artifact = {
        contractName: name,
        ...(name === 'Halo2Verifier' ? { header: header(fs.readFileSync(path.resolve(root, file), 'utf8')) } : {}),
        compiler: solc.version(),
        optimizer,
        abi: c.abi,
        bytecode: '0x' + c.evm.bytecode.object,
        deployedBytecode: '0x' + c.evm.deployedBytecode.object,
        deployedSize,
      };
      fs.writeFileSync(path.join(out, `${name}.json`), JSON.stringify(artifact, null, 2) + '\n');
      sizes[name] = deployedSize;
      if (deployedSize > EIP170_LIMIT) {
        const why = name === 'Halo2Verifier'
          ? ': the generated verifier grows with every column, lookup and gate of its circuit (about 300 bytes per ' +
            'commitment); a generator using fewer kinds of operations (each function table, max pool or product adds ' +
            'columns and gates) or narrower dot rows (`--width`) gets a smaller one'
          : '';
        throw new Error(`${name} is ${deployedSize} bytes deployed, over the EIP-170 limit of ${EIP170_LIMIT}${why}`);
      }
    }
  }
  return sizes;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const sizes = build();
    for (const [name, size] of Object.entries(sizes)) {
      console.log(`${name.padEnd(14)} ${String(size).padStart(6)} bytes deployed (EIP-170 limit ${EIP170_LIMIT})`);
    }
  } catch (e) {
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
}
