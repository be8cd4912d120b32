"""How compactly could a minted picture be stored? Every byte the art contract stores costs about
200 gas, so the packing is worth changing only if another one is clearly smaller on the
pictures the generator really makes.

Generates pictures of the committed generator (8 prompts x 2 seeds, `section9 generate`) and
prints, per picture and on average, its size under:
  - packbits: the contract's run-length packing (`Section9Art.pack`), what a mint stores;
  - zlib-9:   DEFLATE at its best level (LZ77 + Huffman), a bound for general-purpose coders;
  - qoi:      a QOI-style coder (colour index, small differences, luma, runs: 1-4 bytes a pixel);
  - palette:  3 bytes per distinct colour plus ceil(log2(colours)) bits per pixel.

    cargo build --release -p section9 && python3 bench/packing.py [target/release/section9]
"""

import math
import statistics
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

PROMPTS = [
    "a lighthouse at dusk", "a paper crane on a windowsill", "a red fox in snow", "neon city at night",
    "a quiet forest lake", "an old ship in a storm", "sunflowers", "a cat",
]
SEEDS = ["0x" + f"{s:064x}" for s in (1, 2)]


def read_png(path):
    """The RGB8 pixels of a non-interlaced 8-bit RGB PNG (what `section9 generate` writes)."""
    data = path.read_bytes()
    at, idat, width, height = 8, b"", 0, 0
    while at < len(data):
        (size,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + size]
        at += 12 + size
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 2), "expected 8-bit RGB"
        elif kind == b"IDAT":
            idat += body
    raw, stride, out, prev, at = zlib.decompress(idat), width * 3, bytearray(), bytearray(width * 3), 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for x in range(stride):
            a = line[x - 3] if x >= 3 else 0
            b, c = prev[x], (prev[x - 3] if x >= 3 else 0)
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line
        prev = line
    return bytes(out)


def pixels(rgb):
    return [rgb[i:i + 3] for i in range(0, len(rgb), 3)]


def packbits(rgb):
    """Bytes of `Section9Art.pack`: runs of 2-129 equal pixels in 4 bytes, else up to 128 literals."""
    px, size, i = pixels(rgb), 0, 0
    while i < len(px):
        j = i + 1
        while j < len(px) and j - i < 129 and px[j] == px[i]:
            j += 1
        if j - i >= 2:
            size, i = size + 4, j
            continue
        j = i + 1
        while j < len(px) and j - i < 128 and not (j + 1 < len(px) and px[j] == px[j + 1]):
            j += 1
        size, i = size + 1 + 3 * (j - i), j
    return size


def qoi(rgb):
    index, prev, size, run = [None] * 64, b"\0\0\0", 0, 0
    for p in pixels(rgb):
        if p == prev:
            run += 1
            if run == 62:
                size, run = size + 1, 0
            continue
        if run:
            size, run = size + 1, 0
        slot = (p[0] * 3 + p[1] * 5 + p[2] * 7 + 255 * 11) % 64
        if index[slot] == p:
            size += 1
        else:
            index[slot] = p
            dr, dg, db = (((p[k] - prev[k] + 128) & 255) - 128 for k in range(3))
            if all(-2 <= d <= 1 for d in (dr, dg, db)):
                size += 1
            elif -32 <= dg <= 31 and -8 <= dr - dg <= 7 and -8 <= db - dg <= 7:
                size += 2
            else:
                size += 4
        prev = p
    return size + (1 if run else 0)


def palette(rgb):
    colours = len(set(pixels(rgb)))
    return 3 * colours + math.ceil(len(rgb) // 3 * max(1, math.ceil(math.log2(colours))) / 8)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/section9"
    coders = {"packbits": packbits, "zlib-9": lambda rgb: len(zlib.compress(rgb, 9)), "qoi": qoi, "palette": palette}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for prompt in PROMPTS:
            for seed in SEEDS:
                png = Path(tmp) / "picture.png"
                subprocess.run([binary, "generate", "--prompt", prompt, "--seed", seed, "--scale", "1", "--out", str(png)],
                               check=True, capture_output=True)
                rgb = read_png(png)
                rows.append((f"{prompt} ({seed[-1]})", len(rgb), len(set(pixels(rgb))), {n: f(rgb) for n, f in coders.items()}))
    print(f"{'picture':38} {'raw':>5} {'colours':>7} " + " ".join(f"{n:>8}" for n in coders))
    for name, raw, colours, sizes in rows:
        print(f"{name:38} {raw:5} {colours:7} " + " ".join(f"{sizes[n]:8}" for n in coders))
    mean = {n: statistics.mean(r[3][n] for r in rows) for n in coders}
    print(f"{'mean':38} {rows[0][1]:5} {statistics.mean(r[2] for r in rows):7.0f} " + " ".join(f"{mean[n]:8.0f}" for n in coders))


if __name__ == "__main__":
    main()
