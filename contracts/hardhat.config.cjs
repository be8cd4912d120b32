// Hardhat is used only as an EVM: the in-process network for tests and `hardhat node` for the
// local chain. Contracts are compiled by scripts/compile.js with solc-js (Hardhat's own
// compile task would download a compiler).
module.exports = {
  networks: {
    // HARDHAT_CHAIN_ID lets the deploy tests run a node that looks like another chain (an
    // OP Sepolia-like 11155420) to check what deploy.js allows off the local chain, and
    // HARDHAT_HARDFORK one whose EVM is older than the contracts need.
    hardhat: {
      chainId: Number(process.env.HARDHAT_CHAIN_ID ?? 31337),
      ...(process.env.HARDHAT_HARDFORK ? { hardfork: process.env.HARDHAT_HARDFORK } : {}),
    },
  },
};
