// Hardhat is used only as an EVM: the in-process network for tests and `hardhat node` for the
// local chain. Contracts are compiled by scripts/compile.js with solc-js (Hardhat's own
// compile task would download a compiler).
module.exports = {
  networks: {
    hardhat: { chainId: 31337 },
  },
};
