// Telling a verifier of the development SRS from a real one, for deploy.js and the tests.
//
// The development SRS (`section9 --dev-srs`) comes from a public seed: anyone knows its secret
// s and can forge proofs against a verifier built on it. Its [s]G2 is the same point for every
// k, and a generated verifier carries its coordinates in its bytecode (the pairing check needs
// them), so the bytecode tells, whatever a header says. dev-srs.json holds the point;
// a Rust test (crate/tests/ptau.rs) checks it against the development SRS itself.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const LOCAL_CHAIN_ID = 31337;

import { allBytecode } from './verifier.js';

const devPoint = JSON.parse(fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'dev-srs.json'), 'utf8')).s_g2;

/// The two 32-byte words of the development [s]G2's x coordinate, as bare lowercase hex. (The
/// verifier embeds −[s]G2 for its pairing check: the same x, the other y.)
export function devCoordinateWords() {
  return devPoint.x.map((h) => h.replace(/^0x/, '').toLowerCase().padStart(64, '0'));
}

/// True when the compiled verifier trusts the development SRS: its header says so, or its code
/// (every part's, for a split verifier) holds the development [s]G2.
export function isDevelopmentVerifier(artifact) {
  if ((artifact.header?.srs ?? '').startsWith('development')) return true;
  const code = allBytecode(artifact).toLowerCase();
  return devCoordinateWords().every((word) => code.includes(word));
}
