/// ClamAV's normalised text (what target-7 signatures match, and target-0 ones too on text layers):
/// ASCII letters lower-cased, each run of whitespace (\t \n \v \f \r and space) one space, other
/// control bytes and every byte above 0x7f dropped. Behaviour checked against clamscan 1.4.6.
export function normaliseText (bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length)
  let n = 0
  let space = false
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    if (b === 0x20 || (b >= 0x09 && b <= 0x0d)) {
      if (!space) out[n++] = 0x20
      space = true
    } else if (b > 0x20 && b < 0x7f) {
      out[n++] = b >= 0x41 && b <= 0x5a ? b | 0x20 : b
      space = false
    } else if (b === 0x7f) {
      out[n++] = b
      space = false
    }
  }
  return out.subarray(0, n)
}
