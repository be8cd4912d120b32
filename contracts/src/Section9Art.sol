// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {SSTORE2} from "solady/src/utils/SSTORE2.sol";

/// @title ERC-7007: Verifiable AI-Generated Content Token (final), as the standard states it.
/// @dev ERC-165 identifier 0x702c55a6 (`addAigcData` ^ `verify`).
interface IERC7007 is IERC165, IERC721 {
    /// Emitted when `tokenId` token's AIGC data is added.
    event AigcData(uint256 indexed tokenId, bytes indexed prompt, bytes indexed aigcData, bytes proof);

    /// Adds AIGC data to token at `tokenId` given `prompt`, `aigcData`, and `proof`.
    function addAigcData(uint256 tokenId, bytes calldata prompt, bytes calldata aigcData, bytes calldata proof)
        external;

    /// Verifies the `prompt`, `aigcData`, and `proof`.
    function verify(bytes calldata prompt, bytes calldata aigcData, bytes calldata proof)
        external
        view
        returns (bool success);
}

/// @title Section 9 — provable AI art
/// @notice One creator's collection: a picture is minted only with a proof that the committed
/// generator made it from a private prompt, for the sender. The proof's four public inputs are
/// rebuilt here from the call (see `publicInputs`); the verifier is the contract generated for
/// exactly that circuit. Pictures are stored on-chain, run-length packed (see `pack`) into one
/// SSTORE2 blob each, and rendered by `tokenURI` as ERC-7007 metadata JSON with an SVG that
/// embeds the picture as a BMP, all built on-chain. Sales pay the artist an ERC-2981 royalty.
///
/// A collection of a model with committed weights (`section9 … --weights committed`) names the
/// artist's weight commitment at deployment — its registration: the verifier is then the one
/// of the model's shape, which every model of that shape shares, and a mint's proof must also
/// show that the picture came from the weights committed to (a fifth public input), which only
/// their holder can prove. A proof made with other weights, or for another collection's
/// commitment, is refused.
///
/// ERC-7007 mapping: `prompt` = `abi.encode(uint256 commitment, address minter)` — what the
/// proof reveals of the prompt (its Poseidon commitment) and the address the proof was made
/// for, which the statement binds, so `verify` needs nothing else; `aigcData` = the picture
/// (RGB8, row-major, `width × height × 3` bytes); `proof` = the Halo2 proof.
contract Section9Art is IERC7007, ERC721, ERC2981 {
    using Strings for uint256;

    /// The largest picture, in pixels: `pack`'s worst case (3 bytes a pixel and a header per
    /// 128) plus the 52-byte record header must fit one SSTORE2 blob, which is a contract's code
    /// (EIP-170: 24,576 bytes, one of them SSTORE2's STOP prefix): P ≤ 8,153. 8,100 is 90×90;
    /// 128×128 would not fit.
    uint256 public constant MAX_PIXELS = 8100;

    /// The BN254 scalar field modulus: public inputs are field elements.
    uint256 internal constant R = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;

    /// The generated Halo2 verifier: calldata = 4 public inputs (32-byte words) ‖ proof,
    /// accepts by not reverting.
    address public immutable verifier;

    /// SHA-256 of the model's canonical bytes (`section9 info` prints it), or of its shape when
    /// the weights are committed.
    bytes32 public immutable modelId;

    /// The Poseidon commitment to the model's weights and biases (`section9 compile --weights
    /// committed` prints it), the verifier's fifth public input; 0 when the weights are the
    /// verifier's own constants (four public inputs).
    uint256 public immutable weightCommitment;

    /// The picture size in pixels, and in bytes as RGB8 (grey models repeat the value into R, G, B).
    uint256 public immutable width;
    uint256 public immutable height;
    uint256 public immutable imageBytes;

    /// Tokens minted so far; ids run from 1.
    uint256 public totalSupply;

    /// keccak256 of a minted picture → its token id (0: not minted).
    mapping(bytes32 imageHash => uint256 tokenId) public tokenOfImage;

    /// Token id → SSTORE2 pointer to `commitment (32 bytes) ‖ minter (20 bytes) ‖ pack(picture)`.
    mapping(uint256 tokenId => address) private _art;

    event Minted(uint256 indexed tokenId, address indexed minter, bytes32 indexed imageHash, uint256 commitment);

    error WrongImageSize(uint256 length);
    error CommitmentOutOfField();
    error AlreadyMinted(uint256 tokenId);
    error InvalidProof();
    error BadPacking();
    error VerifierHasNoCode(address verifier);
    error BadPictureSize(uint256 width, uint256 height);
    error BadPrompt();
    error PromptNotForSender();
    error WrongTokenId(uint256 next);

    /// @param royaltyReceiver the artist, paid `royaltyBps` / 10,000 of each sale (ERC-2981);
    /// OpenZeppelin refuses a zero receiver and more than 10,000 bps.
    constructor(
        string memory name_,
        string memory symbol_,
        address verifier_,
        bytes32 modelId_,
        uint256 weightCommitment_,
        uint256 width_,
        uint256 height_,
        address royaltyReceiver,
        uint96 royaltyBps
    ) ERC721(name_, symbol_) {
        // A call to an address without code succeeds with empty return data: such a
        // "verifier" would accept every mint.
        if (verifier_.code.length == 0) revert VerifierHasNoCode(verifier_);
        // Each side is bounded first so that the product cannot overflow.
        if (width_ == 0 || height_ == 0 || width_ > MAX_PIXELS || height_ > MAX_PIXELS || width_ * height_ > MAX_PIXELS) {
            revert BadPictureSize(width_, height_);
        }
        // The verifier compares public inputs modulo R: only the canonical form can be matched.
        if (weightCommitment_ >= R) revert CommitmentOutOfField();
        verifier = verifier_;
        modelId = modelId_;
        weightCommitment = weightCommitment_;
        width = width_;
        height = height_;
        imageBytes = width_ * height_ * 3;
        _setDefaultRoyalty(royaltyReceiver, royaltyBps);
    }

    /// @notice ERC-165: ERC-7007, ERC-2981, ERC-721 (and its metadata extension), ERC-165.
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, ERC2981, IERC165) returns (bool) {
        return interfaceId == type(IERC7007).interfaceId || super.supportsInterface(interfaceId);
    }

    /// @notice Mints a picture to the sender with a proof made for the sender's address and
    /// the prompt commitment `commitment`. `packedImage` is the RGB8 picture (row-major) in the
    /// run-length packing of `pack` — the form it is stored in, so a picture with a plain
    /// background costs less calldata and storage (`pack` is a free call for clients).
    /// Emits `Minted` and ERC-7007's `AigcData`.
    function mint(bytes calldata packedImage, uint256 commitment, bytes calldata proof) external returns (uint256 tokenId) {
        bytes memory packed = packedImage;
        tokenId = _mintArt(unpack(packed), packed, commitment, proof);
    }

    /// @notice ERC-7007's way in: the same mint with the picture unpacked. The token does not
    /// exist before: `tokenId` must be the next id (`totalSupply + 1`), so a call that another
    /// mint overtook fails instead of minting another id; `prompt` must name the sender as the
    /// minter, as `mint` requires of a proof.
    function addAigcData(uint256 tokenId, bytes calldata prompt, bytes calldata aigcData, bytes calldata proof)
        external
    {
        if (prompt.length != 64) revert BadPrompt();
        (uint256 commitment, uint256 minter) = abi.decode(prompt, (uint256, uint256));
        if (minter != uint256(uint160(msg.sender))) revert PromptNotForSender();
        uint256 next = totalSupply + 1;
        if (tokenId != next) revert WrongTokenId(next);
        _mintArt(aigcData, pack(aigcData), commitment, proof);
    }

    /// @notice ERC-7007: whether the verifier accepts `proof` for the statement "the committed
    /// generator made `aigcData` from the prompt committed to, for the minter", with `prompt`
    /// = `abi.encode(commitment, minter)`. False (never a revert) for a malformed prompt, a
    /// non-canonical commitment, a picture of the wrong size or a proof that does not verify.
    /// It says nothing of whether the picture is minted (`tokenOfImage` does).
    function verify(bytes calldata prompt, bytes calldata aigcData, bytes calldata proof)
        external
        view
        returns (bool success)
    {
        if (prompt.length != 64 || aigcData.length != imageBytes) return false;
        (uint256 commitment, uint256 minter) = abi.decode(prompt, (uint256, uint256));
        if (commitment >= R || minter >> 160 != 0) return false;
        uint256[4] memory inputs = publicInputs(address(uint160(minter)), aigcData, commitment);
        success = _verifies(inputs, proof);
    }

    function _mintArt(bytes memory image, bytes memory packed, uint256 commitment, bytes calldata proof)
        private
        returns (uint256 tokenId)
    {
        // The verifier reduces public inputs modulo R; only the canonical form is stored.
        if (commitment >= R) revert CommitmentOutOfField();
        bytes32 imageHash = keccak256(image);
        uint256 existing = tokenOfImage[imageHash];
        if (existing != 0) revert AlreadyMinted(existing);

        uint256[4] memory inputs = publicInputs(msg.sender, image, commitment);
        if (!_verifies(inputs, proof)) revert InvalidProof();

        tokenId = ++totalSupply;
        tokenOfImage[imageHash] = tokenId;
        // The minter is kept for the ERC-7007 prompt: the owner may change, the statement not.
        _art[tokenId] = SSTORE2.write(abi.encodePacked(commitment, msg.sender, packed));
        _mint(msg.sender, tokenId);
        emit Minted(tokenId, msg.sender, imageHash, commitment);
        emit AigcData(tokenId, abi.encode(commitment, msg.sender), image, proof);
    }

    /// Whether the verifier accepts `proof` for `inputs`, and for this collection's weight
    /// commitment when it has one.
    function _verifies(uint256[4] memory inputs, bytes calldata proof) private view returns (bool ok) {
        bytes memory statement = weightCommitment == 0 ? abi.encodePacked(inputs) : abi.encodePacked(inputs, weightCommitment);
        (ok,) = verifier.staticcall(bytes.concat(statement, proof));
    }

    /// @notice The circuit's public inputs for a mint, exactly as `statement.rs` defines them:
    /// `[minter, commitment, γ, evaluation]` with `γ = keccak256(image ‖ commitment) mod R` and
    /// `evaluation` the image's 31-byte big-endian chunks `c_0 … c_{n-1}` (n = ⌈len/31⌉, the last
    /// holding the remaining 1 to 31 bytes) evaluated at `γ` by Horner's rule.
    function publicInputs(address minter, bytes memory image, uint256 commitment)
        public
        view
        returns (uint256[4] memory inputs)
    {
        if (image.length != imageBytes) revert WrongImageSize(image.length);
        uint256 gamma = uint256(keccak256(abi.encodePacked(image, commitment))) % R;
        uint256 acc;
        assembly ("memory-safe") {
            let at := add(image, 32)
            let end := add(at, mload(image))
            // Chunk i is bytes [31i, 31i + 31): the top 31 bytes of the word at 31i. The full
            // chunks are all but the last, which starts at 31·⌊(len - 1)/31⌋.
            let last := add(at, mul(31, div(sub(mload(image), 1), 31)))
            for {} lt(at, last) { at := add(at, 31) } {
                acc := addmod(mulmod(acc, gamma, R), shr(8, mload(at)), R)
            }
            // The last chunk's word read runs past the picture; the shift keeps only its
            // `end - at` bytes.
            acc := addmod(mulmod(acc, gamma, R), shr(shl(3, sub(32, sub(end, at))), mload(at)), R)
        }
        inputs = [uint256(uint160(minter)), commitment, gamma, acc];
    }

    /// @notice Run-length packing of a picture's RGB pixels, as stored: packets of a header
    /// byte `h` and pixels. `h < 0x80`: `h + 1` literal pixels follow (3 bytes each);
    /// `h ≥ 0x80`: one pixel follows, repeated `h - 0x7e` times (2 to 129). Storage costs about
    /// 200 gas a byte, so a picture with a plain background mints for far less; a picture
    /// without repeats grows by one byte per 128 pixels.
    function pack(bytes calldata image) public view returns (bytes memory out) {
        if (image.length != imageBytes) revert WrongImageSize(image.length);
        assembly ("memory-safe") {
            out := mload(0x40)
            let o := add(out, 32)
            let ptr := image.offset
            let end := add(ptr, image.length)
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
    /// `WrongImageSize` unless the packets make exactly one `width × height` picture.
    function unpack(bytes memory packed) public view returns (bytes memory image) {
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
        if (size != imageBytes) revert WrongImageSize(size);
        assembly ("memory-safe") {
            image := mload(0x40)
            mstore(image, size)
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
        (image, commitment,) = _record(tokenId);
    }

    /// @notice A token's ERC-7007 prompt, `abi.encode(commitment, minter)`: with `art`'s picture
    /// and the proof of its `AigcData` event, what `verify` takes.
    function promptOf(uint256 tokenId) external view returns (bytes memory) {
        (, uint256 commitment, address minter) = _record(tokenId);
        return abi.encode(commitment, minter);
    }

    function _record(uint256 tokenId) private view returns (bytes memory image, uint256 commitment, address minter) {
        _requireOwned(tokenId);
        address pointer = _art[tokenId];
        bytes memory head = SSTORE2.read(pointer, 0, 52);
        assembly ("memory-safe") {
            commitment := mload(add(head, 32))
            minter := shr(96, mload(add(head, 64)))
        }
        image = unpack(SSTORE2.read(pointer, 52));
    }

    /// @notice Fully on-chain ERC-7007 metadata: `name`, `description`, `image` (an SVG that
    /// shows the picture as a BMP, scaled up pixelated), `prompt` (the ERC-7007 prompt as hex),
    /// `aigc_type` "image", `aigc_data` (the picture itself as a BMP data URI), `proof_type`
    /// "validity", and the model id, commitment and minter.
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        (bytes memory image, uint256 commitment, address minter) = _record(tokenId);
        string memory picture = string.concat("data:image/bmp;base64,", Base64.encode(bmp(image)));
        string memory model = uint256(modelId).toHexString(32);
        bytes memory json = abi.encodePacked(
            '{"name":"', Strings.escapeJSON(name()), " #", tokenId.toString(),
            '","description":"A ', width.toString(), "x", height.toString(),
            ' picture proved (Halo2, KZG on BN254) to come from the committed generator from a private prompt.",',
            '"image":"data:image/svg+xml;base64,', Base64.encode(bytes(_svg(picture))),
            '","prompt":"', Strings.toHexString(abi.encode(commitment, minter)),
            '","aigc_type":"image","aigc_data":"', picture, '","proof_type":"validity",'
        );
        json = abi.encodePacked(
            json,
            '"model_id":"', model, '","prompt_commitment":"', commitment.toHexString(32),
            '","minter":"', Strings.toHexString(minter), '",',
            '"attributes":[{"trait_type":"model","value":"', model, '"}]}'
        );
        return string.concat("data:application/json;base64,", Base64.encode(json));
    }

    /// The SVG of `tokenURI`'s `image`: the picture, scaled by a whole factor to about 512
    /// pixels on its longer side (marketplaces ask for 320 to 1,080 wide) so that every
    /// picture pixel stays a sharp square.
    function _svg(string memory picture) private view returns (string memory) {
        string memory w = width.toString();
        string memory h = height.toString();
        uint256 scale = 512 / (width > height ? width : height);
        if (scale == 0) scale = 1;
        return string.concat(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ', w, " ", h,
            '" width="', (width * scale).toString(), '" height="', (height * scale).toString(), '">',
            '<image width="', w, '" height="', h, '" style="image-rendering:pixelated" href="', picture, '"/></svg>'
        );
    }

    /// @notice A 24-bit BMP of a `width × height` RGB8 picture: 54 header bytes, then rows
    /// bottom-up, pixels as B, G, R, each row zero-padded to a multiple of 4 bytes.
    function bmp(bytes memory image) public view returns (bytes memory out) {
        if (image.length != imageBytes) revert WrongImageSize(image.length);
        uint256 row = width * 3;
        uint256 stride = (row + 3) & ~uint256(3);
        uint256 size = stride * height;
        out = abi.encodePacked(
            hex"424d", _le32(54 + size), hex"00000000", _le32(54), // file header
            _le32(40), _le32(width), _le32(height), hex"0100", hex"1800", // info header: 24 bpp
            _le32(0), _le32(size), _le32(2835), _le32(2835), _le32(0), _le32(0),
            new bytes(size) // zeros: the row padding stays zero
        );
        uint256 rows = height;
        assembly ("memory-safe") {
            let src := add(image, 32)
            // Picture row y goes to BMP row rows - 1 - y: start at the last and step back.
            let dst := add(add(out, 86), mul(stride, sub(rows, 1)))
            for { let y := 0 } lt(y, rows) { y := add(y, 1) } {
                for { let x := 0 } lt(x, row) { x := add(x, 3) } {
                    let p := shr(232, mload(add(src, x)))
                    let d := add(dst, x)
                    mstore8(d, p)
                    mstore8(add(d, 1), shr(8, p))
                    mstore8(add(d, 2), shr(16, p))
                }
                src := add(src, row)
                dst := sub(dst, stride)
            }
        }
    }

    function _le32(uint256 v) private pure returns (bytes4) {
        return bytes4(uint32((v & 0xff) << 24 | (v >> 8 & 0xff) << 16 | (v >> 16 & 0xff) << 8 | (v >> 24 & 0xff)));
    }
}
