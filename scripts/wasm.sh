#!/usr/bin/env bash
# Builds the browser package into pkg/ from crate/ (no ONNX, no PNG):
#   pkg/threads/   wasm32 with atomics and shared memory: the rayon pool runs on Web Workers
#                  (wasm-bindgen-rayon); needs a cross-origin isolated page.
#   pkg/single/    the same code on unshared memory, for pages that are not isolated: rayon
#                  falls back to the calling thread.
# Installs what a fresh machine lacks (the pinned nightly with rust-src and the wasm32 target,
# the wasm-bindgen-cli matching the wasm-bindgen crate); safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# The nightly the threaded build is pinned to (std is rebuilt with atomics).
PINNED_NIGHTLY=2026-05-19
if rustc +nightly --version 2>/dev/null | grep -q "$PINNED_NIGHTLY"; then
    toolchain=nightly
else
    toolchain="nightly-$PINNED_NIGHTLY"
    rustup toolchain list | grep -q "^$toolchain" || rustup toolchain install "$toolchain" --profile minimal
fi
rustup +"$toolchain" component list --installed | grep -q '^rust-src' || rustup +"$toolchain" component add rust-src
rustup +"$toolchain" target list --installed | grep -qx wasm32-unknown-unknown || rustup +"$toolchain" target add wasm32-unknown-unknown

# wasm-bindgen-cli must be exactly the wasm-bindgen version in Cargo.lock.
bindgen_version=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
if ! wasm-bindgen --version 2>/dev/null | grep -q " $bindgen_version\$"; then
    echo "installing wasm-bindgen-cli $bindgen_version (a few minutes, once)"
    cargo install wasm-bindgen-cli --version "$bindgen_version"
fi

# The wasm builds use our patched halo2curves-axiom (scripts/wasm-arith.sh). (Cargo warns that
# the patch "was not used in the crate graph": that is the rebuilt standard library's graph.)
bash scripts/wasm-arith.sh
patched=target/wasm-patched
patch_arg="patch.crates-io.halo2curves-axiom.path=\"$PWD/$patched/halo2curves-axiom\""
# The patched crate is a path dependency, which Cargo.lock records without a registry source
# and checksum: the wasm builds run against that edit of the lock file (every version stays
# pinned, --locked holds), and the committed lock file is put back afterwards.
cp Cargo.lock "$patched/Cargo.lock.committed"
trap 'cp "$patched/Cargo.lock.committed" Cargo.lock' EXIT
sed -i '/^name = "halo2curves-axiom"$/,/^$/{/^source = /d;/^checksum = /d}' Cargo.lock

# Both variants share every compiled dependency: the flags below are common, and only the
# final link of the library differs (shared memory and the TLS exports wasm-bindgen-rayon needs).
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+atomics,+bulk-memory \
 -C link-arg=--max-memory=4294967296 -C link-arg=--import-memory"
build() { # <variant> [final link args…]
    local variant="$1"
    shift
    echo "building pkg/$variant"
    # (A path dependency's lints would print; upstream's code is not ours to lint.)
    cargo +"$toolchain" --config "$patch_arg" \
        --config 'profile.release.package.halo2curves-axiom.rustflags = ["--cap-lints", "allow"]' \
        rustc -p section9 --lib --crate-type cdylib --no-default-features --release --locked \
        --target wasm32-unknown-unknown -Z build-std=panic_abort,std -Z profile-rustflags -- "$@"
    wasm-bindgen target/wasm32-unknown-unknown/release/section9.wasm \
        --out-dir "pkg/$variant" --target web --no-typescript --remove-name-section --remove-producers-section
    # wasm-bindgen-rayon's worker imports its package by directory ('../../..').
    printf '{ "name": "section9-%s", "type": "module", "main": "section9.js", "sideEffects": false }\n' \
        "$variant" > "pkg/$variant/package.json"
}
build threads -C link-arg=--shared-memory -C link-arg=--export=__wasm_init_tls \
    -C link-arg=--export=__tls_size -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base
build single
ls -l pkg/threads/*.wasm pkg/single/*.wasm
