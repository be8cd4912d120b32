// Decodes a Section 9 tokenURI in the browser: base64 JSON → SVG → the BMP inside → RGB8
// pixels (row-major). The same steps as contracts/scripts/render.js, without Node's Buffer.

const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

export function decodeTokenUri(uri) {
  const jsonPrefix = 'data:application/json;base64,';
  if (!uri.startsWith(jsonPrefix)) throw new Error('tokenURI is not base64 JSON');
  const meta = JSON.parse(new TextDecoder().decode(fromBase64(uri.slice(jsonPrefix.length))));
  const svgPrefix = 'data:image/svg+xml;base64,';
  if (!meta.image?.startsWith(svgPrefix)) throw new Error('the image is not a base64 SVG');
  const svg = new TextDecoder().decode(fromBase64(meta.image.slice(svgPrefix.length)));
  const m = svg.match(/href="data:image\/bmp;base64,([A-Za-z0-9+/=]+)"/);
  if (!m) throw new Error('the SVG embeds no BMP');
  return { ...meta, svg, ...decodeBmp(fromBase64(m[1])) };
}

/// A 24-bit uncompressed BMP (bottom-up rows, BGR, rows padded to 4 bytes) → RGB8 row-major.
export function decodeBmp(bmp) {
  const view = new DataView(bmp.buffer, bmp.byteOffset, bmp.byteLength);
  if (bmp[0] !== 0x42 || bmp[1] !== 0x4d) throw new Error('not a BMP');
  const offset = view.getUint32(10, true);
  const width = view.getInt32(18, true);
  const height = view.getInt32(22, true);
  if (view.getUint16(28, true) !== 24 || view.getUint32(30, true) !== 0) throw new Error('not a 24-bit BMP');
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
