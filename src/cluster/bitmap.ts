/// Bucket sets as heartbeats carry them: a bitmap, bit b of byte b>>3.

export function toBitmap (buckets: Iterable<number>, size: number): Uint8Array {
  const bits = new Uint8Array(Math.ceil(size / 8))
  for (const b of buckets) bits[b >> 3] = (bits[b >> 3] ?? 0) | (1 << (b & 7))
  return bits
}

export function fromBitmap (bits: Uint8Array): number[] {
  const out: number[] = []
  bits.forEach((byte, i) => { for (let j = 0; j < 8; j++) if ((byte & (1 << j)) !== 0) out.push(i * 8 + j) })
  return out
}
