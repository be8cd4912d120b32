#!/usr/bin/env bash
# Makes the Powers-of-Tau ceremony files the tests import, with the snarkjs npm package, as a
# ceremony would (cached in target/ptau; safe to run again):
#   small.ptau  power 12: two contributions with fixed entropy, a beacon, prepared for phase 2
#               (with Lagrange sections, like the downloadable powersOfTau28_hez_final_NN files)
#   mint.ptau   power 16, the mint circuit's k: one contribution and a beacon
#   fresh.ptau  power 8, `powersoftau new` only: τ = 1, no contribution (must be refused)
# and mint.srs, the halo2 params `section9 srs import` makes from mint.ptau (the CLI's own
# import path, so the contract and browser tests run on imported parameters).
# Fixed entropy makes the files reproducible; it also makes them insecure: test files only.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh
ensure_node
npm_install .

out=target/ptau
snarkjs=node_modules/.bin/snarkjs
beacon=0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
mkdir -p "$out"

# ceremony NAME POWER CONTRIBUTIONS PREPARE
ceremony() {
    local name=$1 power=$2 contributions=$3 prepare=$4 dir
    [ -s "$out/$name.ptau" ] && return
    dir=$(mktemp -d)
    echo "making $out/$name.ptau (power $power, $contributions contributions, a beacon) with snarkjs"
    "$snarkjs" powersoftau new bn128 "$power" "$dir/0.ptau" >/dev/null
    local i
    for i in $(seq 1 "$contributions"); do
        "$snarkjs" powersoftau contribute "$dir/$((i - 1)).ptau" "$dir/$i.ptau" --name="test contributor $i" -e="section9 test entropy $i" >/dev/null
    done
    "$snarkjs" powersoftau beacon "$dir/$contributions.ptau" "$dir/beacon.ptau" "$beacon" 10 -n="test beacon" >/dev/null
    if [ "$prepare" = yes ]; then
        "$snarkjs" powersoftau prepare phase2 "$dir/beacon.ptau" "$dir/final.ptau" >/dev/null
    else
        mv "$dir/beacon.ptau" "$dir/final.ptau"
    fi
    mv "$dir/final.ptau" "$out/$name.ptau"
    rm -rf "$dir"
}

if [ ! -s "$out/fresh.ptau" ]; then
    "$snarkjs" powersoftau new bn128 8 "$out/fresh.ptau.tmp" >/dev/null
    mv "$out/fresh.ptau.tmp" "$out/fresh.ptau"
fi
ceremony small 12 2 yes
ceremony mint 16 1 no

if [ ! -s "$out/mint.srs" ] || [ "$out/mint.ptau" -nt "$out/mint.srs" ]; then
    cargo build --locked -p section9 --quiet
    target/debug/section9 srs import "$out/mint.ptau" --out "$out/mint.srs"
fi
