/// Cuts a protocol request at 1..8 random places: parser targets feed the pieces one push at a time,
/// as a socket would deliver them.
import type { Rng } from './prng.js'

export function split (bytes: Buffer, rng: Rng): Buffer[] {
  const cuts = [...new Set(Array.from({ length: rng.between(0, 8) }, () => rng.between(1, Math.max(1, bytes.length - 1))))].sort((a, b) => a - b)
  const pieces: Buffer[] = []
  let from = 0
  for (const at of cuts) { pieces.push(bytes.subarray(from, at)); from = at }
  pieces.push(bytes.subarray(from))
  return pieces
}
