/// The greedy match search the test encoders share (upx-writer.ts, installer-writer.ts): the longest
/// earlier copy of the bytes at `at` within `window`, nearest first on ties. Quadratic, which is fine
/// for the few KiB a test packs.
export function longestMatch (data: Uint8Array, at: number, window: number, maxLength: number): { length: number, distance: number } {
  let length = 0
  let distance = 0
  for (let from = Math.max(0, at - window); from < at; from++) {
    let n = 0
    while (n < maxLength && at + n < data.length && data[from + n] === data[at + n]) n++
    if (n >= length) { length = n; distance = at - from }
  }
  return { length, distance }
}
