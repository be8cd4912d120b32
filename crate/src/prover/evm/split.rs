//! A verifier too large for one contract, split across several.
//!
//! snark-verifier emits the whole verifier as straight-line Yul in one `assembly` block: it
//! reads the proof and the instances from calldata into memory and squeezes the challenges,
//! then evaluates the constraints, the multi-opening and the final MSM and pairing — all
//! through memory, with no top-level variables besides `success` and two field moduli. Every
//! column, gate and lookup of the circuit adds code, and a model circuit with tables, max
//! pooling or products is over EIP-170's 24,576 bytes (the zoo's models: 28–33 kB).
//!
//! So the block is cut at top-level statements after the last calldata read: part `i` runs its
//! statements, then calls part `i + 1` with its whole memory as calldata (`staticcall`, no value,
//! no state); part `i + 1` copies it back to memory and continues. Only the last part checks
//! the pairing; every part reverts as soon as `success` is false, so the first contract accepts
//! exactly when the unsplit verifier would. The parts are deployed last to first, each
//! constructor given the next part's address and accepting it only if its code hash is that of
//! the next part's code (`type(..).runtimeCode`, compiled into the same file): callers use the
//! first part's address and the same calldata as an unsplit verifier, and nobody can point it
//! at another continuation. (Deploying the parts from the first one's constructor would be one
//! transaction, but its creation code would carry every part, and EIP-3860 caps creation code
//! at 49,152 bytes: a transformer's verifier is about 70 kB.) A cut costs a call, a storage
//! read and a copy of the memory so far (the model verifiers' gas is in contracts/gas.json).

use super::EvmError;

/// Deployed bytes per character of generated source, measured on four verifiers
/// (0.234–0.237).
const BYTES_PER_CHAR: f64 = 0.24;
/// Above this estimate a verifier is split (EIP-170 allows 24,576 bytes; the estimate errs high).
pub const ONE_CONTRACT: usize = 24_000;
/// The deployed size each part of a split verifier aims at, with room for the estimate's error.
pub const PART_TARGET: usize = 21_000;

/// The estimated deployed size of a generated verifier.
pub fn estimated_size(code: &str) -> usize {
    (code.len() as f64 * BYTES_PER_CHAR) as usize
}

/// `code` (snark-verifier's Solidity) unchanged when it fits in one contract, else as enough
/// contracts for each to stay near [`PART_TARGET`].
pub fn split(code: &str) -> Result<String, EvmError> {
    let size = estimated_size(code);
    if size <= ONE_CONTRACT {
        return Ok(code.to_string());
    }
    split_into(code, size.div_ceil(PART_TARGET).max(2))
}

/// The block's lines, cut into prelude (moduli, `success`, helper functions), body and
/// epilogue (the final revert and return).
struct Block<'a> {
    head: &'a str,
    prelude: Vec<&'a str>,
    body: Vec<&'a str>,
    epilogue: Vec<&'a str>,
    /// Body indices after which a cut may fall: at top level, after every calldata read.
    cuts: Vec<usize>,
}

fn parse(code: &str) -> Result<Block<'_>, EvmError> {
    let bad = |what: &str| EvmError::Split(what.to_string());
    let start = code.find("contract Halo2Verifier {").ok_or_else(|| bad("no `contract Halo2Verifier`"))?;
    let lines: Vec<&str> = code[start..].lines().collect();
    let open = lines.iter().position(|l| l.trim() == "assembly (\"memory-safe\") {").ok_or_else(|| bad("no assembly block"))?;
    // Brace depth inside the block, per line (generated code has no braces in strings; line
    // comments are skipped).
    let mut depth = 0i64;
    let mut interior = Vec::new();
    for line in &lines[open + 1..] {
        let text = line.split("//").next().unwrap_or("");
        let before = depth;
        depth += text.matches('{').count() as i64 - text.matches('}').count() as i64;
        if depth < 0 {
            break;
        }
        interior.push((*line, before, depth));
    }
    // Top-level statements: runs of lines that start and end at depth 0.
    let trimmed = |i: usize| interior[i].0.trim();
    let last_function_end = (0..interior.len())
        .filter(|&i| interior[i].1 == 0 && trimmed(i).starts_with("function "))
        .map(|i| (i..interior.len()).find(|&j| interior[j].2 == 0).unwrap_or(i))
        .max()
        .ok_or_else(|| bad("no helper function in the prelude"))?;
    let epilogue = (0..interior.len())
        .rev()
        .find(|&i| interior[i].1 == 0 && trimmed(i).starts_with("if iszero(success)"))
        .ok_or_else(|| bad("no final success check"))?;
    let body_range = last_function_end + 1..epilogue;
    if body_range.is_empty() {
        return Err(bad("an empty body"));
    }
    if interior[body_range.clone()].iter().any(|(l, before, _)| *before == 0 && l.trim().starts_with("let ")) {
        return Err(bad("a top-level variable in the body, which a cut would lose"));
    }
    let last_read = interior[body_range.clone()].iter().rposition(|(l, _, _)| l.contains("calldataload")).unwrap_or(0);
    let cuts = (last_read..body_range.len()).filter(|&i| interior[body_range.start + i].2 == 0).collect();
    Ok(Block {
        head: &code[..start],
        prelude: interior[..=last_function_end].iter().map(|l| l.0).collect(),
        body: interior[body_range.clone()].iter().map(|l| l.0).collect(),
        epilogue: interior[epilogue..].iter().map(|l| l.0).collect(),
        cuts,
    })
}

/// Splits into `parts` contracts, the cuts where the body's source is most evenly shared.
pub fn split_into(code: &str, parts: usize) -> Result<String, EvmError> {
    let block = parse(code)?;
    let total: usize = block.body.iter().map(|l| l.len() + 1).sum();
    let mut ends = Vec::new();
    let mut size = 0;
    let mut next = 1;
    for (i, line) in block.body.iter().enumerate() {
        size += line.len() + 1;
        if next < parts && size * parts >= total * next && block.cuts.contains(&i) {
            ends.push(i + 1);
            next += 1;
        }
    }
    if ends.len() + 1 != parts {
        return Err(EvmError::Split(format!("found {} of the {} cuts needed after the last calldata read", ends.len(), parts - 1)));
    }
    ends.push(block.body.len());
    let mut out = block.head.to_string();
    let mut start = 0;
    for (index, &end) in ends.iter().enumerate() {
        let name = part_name(index);
        let last = index + 1 == ends.len();
        out.push_str(&format!("contract {name} {{\n"));
        if !last {
            let next = part_name(index + 1);
            out.push_str(&format!(
                "    // The checks go on in {next} (one contract would be over EIP-170): deployed first,\n    \
                 // accepted here only with exactly its code.\n    \
                 address private next;\n\n    \
                 constructor(address nextPart) {{\n        \
                 require(nextPart.codehash == keccak256(type({next}).runtimeCode), \"not the code of {next}\");\n        \
                 next = nextPart;\n    }}\n\n"
            ));
        }
        out.push_str("    fallback(bytes calldata) external returns (bytes memory) {\n");
        if !last {
            out.push_str("        address nextPart = next;\n");
        }
        out.push_str("        assembly (\"memory-safe\") {\n");
        for line in &block.prelude {
            out.push_str(line);
            out.push('\n');
        }
        if index > 0 {
            out.push_str("            // The previous part's memory: the proof, the challenges, what it computed.\n");
            out.push_str("            calldatacopy(0, 0, calldatasize())\n");
        }
        for line in &block.body[start..end] {
            out.push_str(line);
            out.push('\n');
        }
        if last {
            for line in &block.epilogue {
                out.push_str(line);
                out.push('\n');
            }
        } else {
            out.push_str(
                "            if iszero(success) { revert(0, 0) }\n            \
                 // Continue with all of memory; a revert there is a revert here.\n            \
                 if iszero(staticcall(gas(), nextPart, 0, msize(), 0, 0)) { revert(0, 0) }\n            \
                 return(0, 0)\n",
            );
        }
        out.push_str("        }\n    }\n}\n\n");
        start = end;
    }
    Ok(out)
}

/// `Halo2Verifier` for the first part (the address callers use), then `Halo2VerifierPart2`, ….
pub fn part_name(index: usize) -> String {
    if index == 0 {
        "Halo2Verifier".to_string()
    } else {
        format!("Halo2VerifierPart{}", index + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape snark-verifier emits, shortened.
    fn verifier(body: &str) -> String {
        format!(
            "// SPDX-License-Identifier: MIT\n\npragma solidity 0.8.19;\n\ncontract Halo2Verifier {{\n    \
             fallback(bytes calldata) external returns (bytes memory) {{\n        assembly (\"memory-safe\") {{\n            \
             let success := true\n            let f_q := 7\n            function validate_ec_point(x, y) -> valid {{\n                \
             valid := 1\n            }}\n{body}\n            // Revert if anything fails\n            \
             if iszero(success) {{ revert(0, 0) }}\n            return(0, 0)\n        }}\n    }}\n}}\n"
        )
    }

    const BODY: &str = "mstore(0xa0, mod(calldataload(0x0), f_q))\n{\n    let x := calldataload(0x20)\n    mstore(0xc0, x)\n}\n\
                        mstore(0xe0, 1)\nmstore(0x100, 2)\n{\n    let y := mload(0xe0)\n    mstore(0x120, y)\n}\nmstore(0x140, 3)";

    #[test]
    fn parts_share_the_prelude_and_hand_over_memory_after_the_last_calldata_read() {
        let out = split_into(&verifier(BODY), 2).unwrap();
        let second = out.find("contract Halo2VerifierPart2 {").unwrap();
        let (first, rest) = out.split_at(second);
        assert!(first.contains("require(nextPart.codehash == keccak256(type(Halo2VerifierPart2).runtimeCode)"));
        assert!(first.contains("staticcall(gas(), nextPart, 0, msize(), 0, 0)"));
        assert!(first.contains("calldataload(0x20)") && !rest.contains("calldataload"));
        assert!(!first.contains("// Revert if anything fails") && rest.contains("// Revert if anything fails"));
        assert!(rest.contains("calldatacopy(0, 0, calldatasize())"));
        for part in [first, rest] {
            assert!(part.contains("function validate_ec_point") && part.contains("let f_q := 7"));
        }
        // Every statement lands in exactly one part, in order.
        for line in ["mstore(0xe0, 1)", "mstore(0x100, 2)", "mstore(0x120, y)", "mstore(0x140, 3)"] {
            assert_eq!(out.matches(line).count(), 1, "{line}");
        }
        assert!(out.starts_with("// SPDX-License-Identifier: MIT"));
    }

    #[test]
    fn a_verifier_that_fits_is_left_alone_and_a_strange_one_is_refused() {
        let small = verifier(BODY);
        assert_eq!(split(&small).unwrap(), small);
        assert!(matches!(split_into("contract Other {}", 2), Err(EvmError::Split(_))));
        let top_level = verifier(&format!("{BODY}\nlet z := 1\nmstore(0x160, z)"));
        assert!(matches!(split_into(&top_level, 2), Err(EvmError::Split(what)) if what.contains("top-level variable")));
        // Too many parts for the statements after the last calldata read.
        assert!(matches!(split_into(&verifier(BODY), 10), Err(EvmError::Split(what)) if what.contains("cuts needed")));
    }
}
