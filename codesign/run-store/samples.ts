// Latency samples are stored as a BLOB of little-endian float64, not JSON: every double comes back bit for bit
// (JSON has no NaN/Infinity and writes -0 as 0), at 8 bytes a sample instead of ~18 characters, with no
// parsing; queries use the median/IQR/min columns derived when the run is written.

export function encodeSamples(samples: readonly number[]): Buffer {
  const b = Buffer.allocUnsafe(samples.length * 8);
  samples.forEach((v, i) => b.writeDoubleLE(v, i * 8));
  return b;
}

export function decodeSamples(b: Uint8Array, where: string): number[] {
  if (b.byteLength % 8 !== 0) throw new Error(`${where}: samples BLOB of ${b.byteLength} bytes, expected a multiple of 8 (float64)`);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: b.byteLength / 8 }, (_, i) => v.getFloat64(i * 8, true));
}
