// CRC-32/ISO-HDLC (the zlib/Ethernet CRC): reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF.
// Table-driven, one byte per step; check value crc32("123456789") = 0xCBF43926.

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Continues a CRC over more bytes: crc32(b, crc32(a)) = crc32(a ++ b). */
export function crc32(data: Uint8Array, previous = 0): number {
  let c = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
