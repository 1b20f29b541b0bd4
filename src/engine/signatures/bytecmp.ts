/// Byte-compare subsignatures of .ldb rules: `n(>>off#options#comparisons)` reads a number at `off`
/// bytes after (`>>`) or before (`<<`) each match start of subsignature n and compares it with one
/// or two values. Options `[h|d|a|i][l|b][e]count`: hex text, decimal text, auto (0x… is hex),
/// or raw binary (1, 2, 4 or 8 bytes, little or big endian; auto `a` is unsupported, see below); `e` requires all `count` characters
/// to be digits (binary is always exact). Values are read as BigInt so 8-byte fields stay exact.
import type { ByteCompareSub } from './types.js'

const num = (s: string): bigint => BigInt(s.toLowerCase().startsWith('0x') ? s : s)
const numText = '(0x[0-9a-fA-F]+|\\d+)'
const shape = new RegExp(`^(\\d+)\\((>>|<<)${numText}#([hdai])([lb]?)(e?)${numText}#([<>=]${numText}(?:,[<>=]${numText})?)\\)$`)

export function isByteCompareText (text: string): boolean { return /^\d+\(.*#.*#.*\)$/.test(text) }

export function parseByteCompare (text: string): ByteCompareSub | string {
  const m = shape.exec(text)
  if (m === null) return `bad byte-compare subsignature '${text}'`
  const base = m[4] as ByteCompareSub['base']
  const bytes = Number(num(m[7] ?? '0'))
  // ClamAV 1.4.6 matched no `a` compare in our checks against clamscan; matching it by the
  // documentation would detect what ClamAV does not
  if (base === 'a') return 'unsupported:byte compare with automatic base (a)'
  if (base === 'd' && m[5] === 'l') return `byte compare '${text}': decimal cannot be little endian`
  if (base === 'i' && ![1, 2, 4, 8].includes(bytes)) return `byte compare '${text}': binary reads 1, 2, 4 or 8 bytes`
  if (bytes < 1 || bytes > 64) return `byte compare '${text}': bad byte count`
  const comparisons = (m[8] ?? '').split(',').map(c => ({ op: c[0] as '<' | '>' | '=', value: num(c.slice(1)) }))
  const off = Number(num(m[3] ?? '0'))
  return {
    k: 'bcmp',
    trigger: Number(m[1]),
    offset: m[2] === '<<' ? -off : off,
    base,
    little: m[5] === 'l',
    exact: m[6] === 'e' || base === 'i',
    bytes,
    comparisons,
  }
}

const hexDigit = /^[0-9a-fA-F]$/
const decDigit = /^[0-9]$/

/// The number at `at`, or undefined when there is none (out of bounds, not digits, too short for `e`).
function readNumber (sub: ByteCompareSub, buf: Uint8Array, at: number): bigint | undefined {
  if (at < 0 || at >= buf.length) return undefined
  const avail = buf.subarray(at, Math.min(buf.length, at + sub.bytes))
  if (sub.base === 'i') {
    if (avail.length < sub.bytes) return undefined
    let v = 0n
    for (let i = 0; i < sub.bytes; i++) v = (v << 8n) | BigInt(avail[sub.little ? sub.bytes - 1 - i : i]!)
    return v
  }
  let text = Buffer.from(avail).toString('latin1')
  let hex = sub.base === 'h'
  if (sub.base === 'a' && /^0[xX]/.test(text)) { hex = true }
  if (hex && /^0[xX]/.test(text)) text = text.slice(2)
  const digit = hex ? hexDigit : decDigit
  let n = 0
  while (n < text.length && digit.test(text[n]!)) n++
  if (n === 0 || (sub.exact && (n !== text.length || avail.length < sub.bytes))) return undefined
  let v = BigInt(hex ? `0x${text.slice(0, n)}` : text.slice(0, n))
  if (hex && sub.little) {
    let swapped = 0n
    for (let i = 0; i < Math.ceil(n / 2); i++) { swapped = (swapped << 8n) | (v & 0xffn); v >>= 8n }
    v = swapped
  }
  return v
}

/// Whether the comparison holds at any of the trigger's match starts.
export function byteCompareHolds (sub: ByteCompareSub, buf: Uint8Array, triggerStarts: readonly number[]): boolean {
  for (const start of triggerStarts) {
    const v = readNumber(sub, buf, start + sub.offset)
    if (v === undefined) continue
    if (sub.comparisons.every(c => c.op === '<' ? v < c.value : c.op === '>' ? v > c.value : v === c.value)) return true
  }
  return false
}
