// Deploying a compiled verifier (scripts/compile.js's artifact). One that fits in one contract
// is one deployment; a split one (see crate/src/prover/evm/split.rs) is its parts, deployed
// from the last to the first, each constructor given the next part's address (it accepts only
// that part's exact code). Callers use the first part's address.

/// `deployContract({ abi, bytecode, args }, name)` deploys and resolves to the receipt. Resolves to
/// { address, receipts } — the first part's address, every part's receipt in call order.
export async function deployVerifier(artifact, deployContract) {
  const parts = artifact.parts ?? [artifact];
  const receipts = [];
  let next = null;
  for (const part of [...parts].reverse()) {
    const receipt = await deployContract({ abi: part.abi, bytecode: part.bytecode, args: next ? [next] : [] }, part.name ?? 'Halo2Verifier');
    if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error(`deploying ${part.name ?? 'Halo2Verifier'} failed`);
    receipts.unshift(receipt);
    next = receipt.contractAddress;
  }
  return { address: next, receipts };
}

/// Every part's creation code, joined: what to search for an embedded constant.
export function allBytecode(artifact) {
  return (artifact.parts ?? [artifact]).map((p) => p.bytecode).join('');
}
