/// JScript.Encode / VBScript.Encode (Microsoft's Script Encoder, `#@~^LLLLLL==…SSSSSS==^#~@`)
/// decoded as libclamav 1.4's htmlnorm does it (learnt by reading htmlnorm.c's screnc_decode and the
/// public descriptions of the format by Andreas Marx and MrBrownstone): each encoded byte below 0x80
/// maps through one of three substitution tables, the table chosen by the byte's position (mod 64)
/// in a fixed sequence; `@` escapes `<`, `\r`, `@`, `\n` and `>` (`@!`, `@#`, `@$`, `@&`, `@*`);
/// newlines are skipped, bytes above 0x7f copied two at a time; the length in the header counts
/// the encoded bytes. The decoding happens in libclamav's read buffer, in place, so the decoded
/// script is then normalised as the page's own text and reaches its JavaScript normaliser; this
/// module returns the rewritten read instead. Its quirks are kept: the checksum is not enforced,
/// the 12 bytes after the encoded text are skipped unchecked when at least 12 remain in the read,
/// an encoded script longer than the read goes on in the next read (after its leading whitespace,
/// which libclamav skips), and the length wraps past zero on an `@` escape at its very end.
/// No npm library decodes the Script Encoder's format.

/// The three tables for bytes 0x20-0x7f (hex, 0xff: `@`, the escape), and each table's byte for tab;
/// bytes below 0x20 decode to themselves.
const TABLES = [
  '2e477a56426a2f26494134325b7672433839704568714f09624423753c7e3e5eff774a615d224b6f4e3b4c50672a7d74542b2d2c306e6b66352521644d52633f7b7829287359337f6d55537c3a5f65465831696c5a48275c3d24793760512036',
  '323021295b38333d583a3565395c5673664e456b6259785e7d4a6d713c603e53ff422748727531374d5222546a47642d207f2e4c5d7e6c6f797443267625242b28234134092a443f773b55696163506751494f46687c36706e7a2f5f4b5a2c57',
  '2d755260715e495c627d2936207c7a7f6b63332b68516676316454433c3a3e7eff452c2a7427374479592f6f26726a397b3f387767534734785d30235a5b6c485570692e4c21244e5009567335614b583b57226d4d2528464a32413d5f4f4265'
]
const TAB = [0x57, 0x7b, 0x6e]
const ORDER = '0210212112120121012100211201211200121210100210120121002110021012'

export const decodeTable: readonly Uint8Array[] = TABLES.map((hex, t) => {
  const table = new Uint8Array(128)
  for (let c = 0; c < 0x20; c++) table[c] = c
  table[9] = TAB[t]!
  for (let c = 0x20; c < 0x80; c++) table[c] = parseInt(hex.slice((c - 0x20) * 2, (c - 0x20) * 2 + 2), 16)
  return table
})
/// Which table decodes the byte at each position (mod 64).
export const order = Uint8Array.from(ORDER, d => Number(d))

/// The standard base64 alphabet's values, -1 elsewhere.
const b64 = new Int8Array(256).fill(-1)
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((ch, i) => { b64[ch.charCodeAt(0)] = i })

/// The encoded length in a header's 6 base64 bytes, with libclamav's arithmetic on bad bytes (-1).
export function encodedLength (b: Uint8Array, at: number): number {
  const v = (k: number): number => b64[b[at + k]!]!
  const nonNeg = (x: number): number => x < 0 ? 0 : x
  const sum = nonNeg(v(0)) * 4 + (v(1) >> 4) + (v(1) & 0x0f) * 4096 + nonNeg(v(2) >> 2) * 256 +
    (v(2) & 0x03) * 4194304 + nonNeg(v(3)) * 65536 + nonNeg(v(4)) * 4 * 16777216 + nonNeg(v(5) >> 4) * 16777216
  return sum >>> 0
}

/// What the Script Encoder's decoding carries from one read to the next.
export class ScrencState {
  length = 0
  sum = 0
  pos = 0
  /// An encoded script is open past the end of the last read.
  open = false
}

const MARKER = [0x23, 0x40, 0x7e, 0x5e] // #@~^

/// Whether the read has the start marker at `at`.
export function markerAt (line: Uint8Array, at: number, end: number): boolean {
  if (at + 4 > end) return false
  for (let k = 0; k < 4; k++) if (line[at + k] !== MARKER[k]) return false
  return true
}

/// screnc_decode on line[at, end) (NUL-free): the read rewritten (line[0, at), the decoded bytes, then
/// what follows the encoded text) and its new end.
export function decodeScript (line: Uint8Array, at: number, end: number, s: ScrencState): { line: Uint8Array, end: number } {
  const out: number[] = []
  let p = at
  while (s.length > 0 && p < end) {
    const c = line[p]!
    if (c === 0x0a || c === 0x0d) { p++; continue }
    if (c < 0x80) {
      let value = decodeTable[order[s.pos]!]![c]!
      if (value === 0xff) {
        p++
        s.length = (s.length - 1) >>> 0
        switch (p < end ? line[p]! : 0) {
          case 0: p--; break
          case 0x21: value = 0x3c; break
          case 0x23: value = 0x0d; break
          case 0x24: value = 0x40; break
          case 0x26: value = 0x0a; break
          case 0x2a: value = 0x3e; break
        }
      }
      s.sum = (s.sum + value) >>> 0
      out.push(value)
      s.pos = (s.pos + 1) % 64
    } else {
      out.push(c)
      p++
      if (p >= end) break
      out.push(line[p]!)
    }
    p++
    s.length = (s.length - 1) >>> 0
  }
  s.open = s.length > 0
  let rest = end
  if (!s.open) {
    rest = p
    if (end - p >= 12) rest = p + 12 // checksum (8) and end marker (4), not checked
  }
  const tail = end - rest
  const next = new Uint8Array(at + out.length + tail)
  next.set(line.subarray(0, at))
  next.set(out, at)
  next.set(line.subarray(rest, end), at + out.length)
  return { line: next, end: next.length }
}

/// The read line[base, end) as a copy of its own (index k becomes k - base), without the NUL bytes
/// from `at` on (libclamav's reads have none), for rewriting in place.
export function withoutNuls (line: Uint8Array, base: number, at: number, end: number): { line: Uint8Array, end: number } {
  let nuls = 0
  for (let i = at; i < end; i++) if (line[i] === 0) nuls++
  const next = new Uint8Array(end - base - nuls)
  next.set(line.subarray(base, at))
  let n = at - base
  for (let i = at; i < end; i++) if (line[i] !== 0) next[n++] = line[i]!
  return { line: next, end: n }
}
