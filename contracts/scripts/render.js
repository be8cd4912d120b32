// Decodes a Section 9 tokenURI: data:application/json;base64 → JSON → SVG (base64) → the BMP
// inside it → RGB8 pixels, row-major. Used by the tests and the mint page's gallery check.
export function decodeTokenUri(uri) {
  const jsonPrefix = 'data:application/json;base64,';
  if (!uri.startsWith(jsonPrefix)) throw new Error('tokenURI is not base64 JSON');
  const meta = JSON.parse(Buffer.from(uri.slice(jsonPrefix.length), 'base64').toString('utf8'));
  const svgPrefix = 'data:image/svg+xml;base64,';
  if (!meta.image?.startsWith(svgPrefix)) throw new Error('image is not a base64 SVG');
  const svg = Buffer.from(meta.image.slice(svgPrefix.length), 'base64').toString('utf8');
  const m = svg.match(/href="data:image\/bmp;base64,([A-Za-z0-9+/=]+)"/);
  if (!m) throw new Error('the SVG embeds no BMP');
  return { ...meta, svg, ...decodeBmp(Buffer.from(m[1], 'base64')) };
}

/// A 24-bit uncompressed BMP (bottom-up rows, BGR, rows padded to 4 bytes) → RGB8 row-major.
export function decodeBmp(bmp) {
  if (bmp.toString('latin1', 0, 2) !== 'BM') throw new Error('not a BMP');
  if (bmp.readUInt32LE(2) !== bmp.length) throw new Error('BMP size field does not match');
  const offset = bmp.readUInt32LE(10);
  const width = bmp.readInt32LE(18);
  const height = bmp.readInt32LE(22);
  if (bmp.readUInt16LE(28) !== 24 || bmp.readUInt32LE(30) !== 0) throw new Error('not a 24-bit uncompressed BMP');
  const stride = Math.ceil((width * 3) / 4) * 4;
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = offset + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const at = row + x * 3;
      rgb.set([bmp[at + 2], bmp[at + 1], bmp[at]], (y * width + x) * 3);
    }
  }
  return { width, height, rgb };
}
