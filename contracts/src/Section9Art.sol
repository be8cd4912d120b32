// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {SSTORE2} from "solady/src/utils/SSTORE2.sol";

/// @title Section 9 — provable AI art
/// @notice A picture is minted only with a proof that the committed generator made it from a
/// private prompt, for the sender. The proof's four public inputs are rebuilt here from the
/// call (see `publicInputs`); the verifier is the contract generated for exactly that circuit.
/// Pictures are stored on-chain, run-length packed (see `pack`) into one SSTORE2 blob each,
/// and rendered by `tokenURI` as JSON with an SVG that embeds the picture as a BMP, all built
/// on-chain.
contract Section9Art is ERC721 {
    using Strings for uint256;

    /// Picture side in pixels, and its size as RGB8 bytes.
    uint256 public constant SIDE = 32;
    uint256 public constant IMAGE_BYTES = SIDE * SIDE * 3;

    /// The BN254 scalar field modulus: public inputs are field elements.
    uint256 internal constant R = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;

    /// The generated Halo2 verifier: calldata = 4 public inputs (32-byte words) ‖ proof,
    /// accepts by not reverting.
    address public immutable verifier;

    /// SHA-256 of the model's canonical bytes (`section9 info` prints it).
    bytes32 public immutable modelId;

    /// Tokens minted so far; ids run from 1.
    uint256 public totalSupply;

    /// keccak256 of a minted picture → its token id (0: not minted).
    mapping(bytes32 imageHash => uint256 tokenId) public tokenOfImage;

    /// Token id → SSTORE2 pointer to `commitment (32 bytes) ‖ pack(picture)`.
    mapping(uint256 tokenId => address) private _art;

    event Minted(uint256 indexed tokenId, address indexed minter, bytes32 indexed imageHash, uint256 commitment);

    error WrongImageSize(uint256 length);
    error CommitmentOutOfField();
    error AlreadyMinted(uint256 tokenId);
    error InvalidProof();
    error BadPacking();
    error VerifierHasNoCode(address verifier);

    constructor(address verifier_, bytes32 modelId_) ERC721("Section 9", "S9") {
        // A call to an address without code succeeds with empty return data: such a
        // "verifier" would accept every mint.
        if (verifier_.code.length == 0) revert VerifierHasNoCode(verifier_);
        verifier = verifier_;
        modelId = modelId_;
    }

    /// @notice Mints a picture to the sender with a proof made for the sender's address and
    /// the prompt commitment `commitment`. `packedImage` is the 32×32 RGB8 picture (row-major)
    /// in the run-length packing of `pack` — the form it is stored in, so a picture with a plain
    /// background costs less calldata and storage (`pack` is a free call for clients).
    function mint(bytes calldata packedImage, uint256 commitment, bytes calldata proof) external returns (uint256 tokenId) {
        bytes memory image = unpack(packedImage);
        // The verifier reduces public inputs modulo R; only the canonical form is stored.
        if (commitment >= R) revert CommitmentOutOfField();
        bytes32 imageHash = keccak256(image);
        uint256 existing = tokenOfImage[imageHash];
        if (existing != 0) revert AlreadyMinted(existing);

        uint256[4] memory inputs = publicInputs(msg.sender, image, commitment);
        (bool ok,) = verifier.staticcall(abi.encodePacked(inputs, proof));
        if (!ok) revert InvalidProof();

        tokenId = ++totalSupply;
        tokenOfImage[imageHash] = tokenId;
        _art[tokenId] = SSTORE2.write(abi.encodePacked(commitment, packedImage));
        _mint(msg.sender, tokenId);
        emit Minted(tokenId, msg.sender, imageHash, commitment);
    }

    /// @notice The circuit's public inputs for a mint, exactly as `statement.rs` defines them:
    /// `[minter, commitment, γ, evaluation]` with `γ = keccak256(image ‖ commitment) mod R` and
    /// `evaluation` the image's 31-byte big-endian chunks (99 full ones, then 3 bytes) evaluated
    /// at `γ` by Horner's rule.
    function publicInputs(address minter, bytes memory image, uint256 commitment)
        public
        pure
        returns (uint256[4] memory inputs)
    {
        if (image.length != IMAGE_BYTES) revert WrongImageSize(image.length);
        uint256 gamma = uint256(keccak256(abi.encodePacked(image, commitment))) % R;
        uint256 acc;
        assembly ("memory-safe") {
            let at := add(image, 32)
            // Chunk i is bytes [31i, 31i + 31): the top 31 bytes of the word at 31i.
            for { let end := add(at, 3069) } lt(at, end) { at := add(at, 31) } {
                acc := addmod(mulmod(acc, gamma, R), shr(8, mload(at)), R)
            }
            // The last chunk: bytes 3069..3071 (the word read runs past the picture; the shift
            // keeps only those three bytes).
            acc := addmod(mulmod(acc, gamma, R), shr(232, mload(at)), R)
        }
        inputs = [uint256(uint160(minter)), commitment, gamma, acc];
    }

    /// @notice Run-length packing of a picture's 1,024 RGB pixels, as stored: packets of a
    /// header byte `h` and pixels. `h < 0x80`: `h + 1` literal pixels follow (3 bytes each);
    /// `h ≥ 0x80`: one pixel follows, repeated `h - 0x7e` times (2 to 129). Storage costs about
    /// 200 gas a byte, so a picture with a plain background mints for far less; a picture
    /// without repeats grows by one byte per 128 pixels.
    function pack(bytes calldata image) public pure returns (bytes memory out) {
        if (image.length != IMAGE_BYTES) revert WrongImageSize(image.length);
        assembly ("memory-safe") {
            out := mload(0x40)
            let o := add(out, 32)
            let ptr := image.offset
            let end := add(ptr, 3072)
            // Reads past `end` see the rest of the calldata or zeros; every such value is
            // masked by a bound check before it matters.
            for {} lt(ptr, end) {} {
                let p := shr(232, calldataload(ptr))
                let q := add(ptr, 3)
                let limit := add(ptr, 387) // 129 pixels
                if gt(limit, end) { limit := end }
                for {} and(lt(q, limit), eq(shr(232, calldataload(q)), p)) { q := add(q, 3) } {}
                switch gt(sub(q, ptr), 3)
                case 1 {
                    // A run of r = (q - ptr) / 3 pixels: header 0x80 + r - 2, then the pixel.
                    mstore(o, or(shl(248, add(0x7e, div(sub(q, ptr), 3))), shl(224, p)))
                    o := add(o, 4)
                }
                default {
                    // Literals until two equal neighbours begin a run, or 128 of them.
                    limit := add(ptr, 384)
                    if gt(limit, end) { limit := end }
                    let cur := shr(232, calldataload(q))
                    for {} lt(q, limit) {} {
                        let next := add(q, 3)
                        let value := shr(232, calldataload(next))
                        if and(lt(next, end), eq(cur, value)) { break }
                        q := next
                        cur := value
                    }
                    let size := sub(q, ptr)
                    mstore8(o, sub(div(size, 3), 1))
                    calldatacopy(add(o, 1), ptr, size)
                    o := add(o, add(1, size))
                }
                ptr := q
            }
            mstore(out, sub(o, add(out, 32)))
            mstore(0x40, and(add(o, 31), not(31)))
        }
    }

    /// @notice The inverse of `pack`. Reverts `BadPacking` on a truncated packet and
    /// `WrongImageSize` unless the packets make exactly one 32×32 picture.
    function unpack(bytes memory packed) public pure returns (bytes memory image) {
        uint256 size;
        bool truncated;
        assembly ("memory-safe") {
            // First pass: check every packet is whole and add up the pixels.
            let i := add(packed, 32)
            let end := add(i, mload(packed))
            for {} lt(i, end) {} {
                let h := byte(0, mload(i))
                let count := add(h, 1)
                let body := mul(count, 3)
                if gt(h, 0x7f) {
                    count := sub(h, 0x7e)
                    body := 3
                }
                i := add(i, add(1, body))
                size := add(size, mul(count, 3))
            }
            truncated := gt(i, end)
        }
        if (truncated) revert BadPacking();
        if (size != IMAGE_BYTES) revert WrongImageSize(size);
        assembly ("memory-safe") {
            image := mload(0x40)
            mstore(image, 3072)
            let o := add(image, 32)
            let i := add(packed, 32)
            let end := add(i, mload(packed))
            for {} lt(i, end) {} {
                let h := byte(0, mload(i))
                switch lt(h, 0x80)
                case 1 {
                    let body := mul(add(h, 1), 3)
                    mcopy(o, add(i, 1), body)
                    o := add(o, body)
                    i := add(i, add(1, body))
                }
                default {
                    // The pixel ten times in the top 30 bytes of a word, stored every 30 bytes
                    // (each store's last 2 bytes are overwritten by the next one or lie past
                    // the run, where the next packet or the spare word after the picture is).
                    let tile := shl(16, mul(shr(232, mload(add(i, 1))), 0x000001000001000001000001000001000001000001000001000001000001))
                    let run := mul(sub(h, 0x7e), 3)
                    for { let k := 0 } lt(k, run) { k := add(k, 30) } { mstore(add(o, k), tile) }
                    o := add(o, run)
                    i := add(i, 4)
                }
            }
            // The picture, then one spare word that the last run may have written into.
            mstore(0x40, add(o, 32))
        }
    }

    /// @notice The picture (RGB8, row-major) and prompt commitment of a token.
    function art(uint256 tokenId) public view returns (bytes memory image, uint256 commitment) {
        _requireOwned(tokenId);
        address pointer = _art[tokenId];
        commitment = uint256(bytes32(SSTORE2.read(pointer, 0, 32)));
        image = unpack(SSTORE2.read(pointer, 32));
    }

    /// @notice Fully on-chain metadata: JSON with an SVG that shows the picture as a BMP.
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        (bytes memory image, uint256 commitment) = art(tokenId);
        string memory svg = string.concat(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="512" height="512">',
            '<image width="32" height="32" style="image-rendering:pixelated" href="data:image/bmp;base64,',
            Base64.encode(bmp(image)),
            '"/></svg>'
        );
        string memory id = tokenId.toString();
        string memory model = uint256(modelId).toHexString(32);
        string memory prompt = commitment.toHexString(32);
        bytes memory json = abi.encodePacked(
            '{"name":"Section 9 #', id,
            '","description":"A 32x32 picture proved (Halo2, KZG on BN254) to come from the Section 9 generator from a private prompt.",',
            '"model_id":"', model, '","prompt_commitment":"', prompt, '",',
            '"attributes":[{"trait_type":"model","value":"', model, '"}],',
            '"image":"data:image/svg+xml;base64,', Base64.encode(bytes(svg)), '"}'
        );
        return string.concat("data:application/json;base64,", Base64.encode(json));
    }

    /// @notice A 24-bit BMP of a 32×32 RGB8 picture: 54 header bytes, then rows bottom-up,
    /// pixels as B, G, R (a 96-byte row needs no padding).
    function bmp(bytes memory image) public pure returns (bytes memory out) {
        if (image.length != IMAGE_BYTES) revert WrongImageSize(image.length);
        out = abi.encodePacked(
            hex"424d", _le32(54 + IMAGE_BYTES), hex"00000000", _le32(54), // file header
            _le32(40), _le32(SIDE), _le32(SIDE), hex"0100", hex"1800", // info header: 24 bpp
            _le32(0), _le32(IMAGE_BYTES), _le32(2835), _le32(2835), _le32(0), _le32(0),
            new bytes(IMAGE_BYTES)
        );
        for (uint256 y = 0; y < SIDE; ++y) {
            uint256 src = y * SIDE * 3;
            uint256 dst = 54 + (SIDE - 1 - y) * SIDE * 3;
            for (uint256 x = 0; x < SIDE * 3; x += 3) {
                out[dst + x] = image[src + x + 2];
                out[dst + x + 1] = image[src + x + 1];
                out[dst + x + 2] = image[src + x];
            }
        }
    }

    function _le32(uint256 v) private pure returns (bytes4) {
        return bytes4(uint32((v & 0xff) << 24 | (v >> 8 & 0xff) << 16 | (v >> 16 & 0xff) << 8 | (v >> 24 & 0xff)));
    }
}
