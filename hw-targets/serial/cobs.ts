// COBS (Consistent Overhead Byte Stuffing, Cheshire & Baker 1999): removes every 0x00 from a frame body so
// that 0x00 can delimit frames on the wire (docs/protocol.md). Minimal form: a 0xFF block that ends the data
// is not followed by an empty block, as in the paper's and Wikipedia's examples.

/** Most bytes COBS adds to n bytes (one code byte per 254 data bytes, at least one). */
export function cobsMaxEncoded(n: number): number {
  return n + Math.floor(n / 254) + 1;
}

/** Encodes data (no delimiter appended). */
export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncoded(data.length));
  let codeAt = 0;
  let o = 1;
  let code = 1;
  for (let i = 0; i < data.length; i++) {
    const b = data[i];
    if (b === 0) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
      continue;
    }
    out[o++] = b;
    if (++code === 0xff) {
      out[codeAt] = code;
      if (i === data.length - 1) return out.subarray(0, o);
      codeAt = o++;
      code = 1;
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/** Decodes one encoded frame (without its delimiter); undefined if it is not valid COBS. */
export function cobsDecode(enc: Uint8Array): Uint8Array | undefined {
  const out = new Uint8Array(enc.length);
  let i = 0;
  let o = 0;
  while (i < enc.length) {
    const code = enc[i++];
    if (code === 0) return undefined;
    if (i + code - 1 > enc.length) return undefined;
    for (let j = 1; j < code; j++) {
      const b = enc[i++];
      if (b === 0) return undefined;
      out[o++] = b;
    }
    if (code !== 0xff && i < enc.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}
