/// A direct (non-streaming) search for one hex pattern in a layer's bytes, with the checks the
/// anchor scan leaves out: a window for the match start (offsets of any kind), the (B)/(L)/(W)
/// edge anchors and `::f` fullword, all as ClamAV 1.4.6 applies them (checked against clamscan by
/// test/integration/signature-features.test.ts). Only ext rules that the anchor scan made
/// candidates come here, so its cost is per candidate, never per byte of every layer.
import { elemLength, type Elem, type Edge, type Pattern } from '../signatures/hex.js'

/// ClamAV's boundary table for (B): bit 1, the byte may precede a match; bit 2, it may follow one.
const boundary = new Uint8Array(256)
for (const [c, bits] of [[0x0a, 2], [0x0d, 2], [0x20, 3], [0x22, 2], [0x27, 2], [0x2d, 3], [0x2e, 1], [0x2f, 3],
  [0x3c, 1], [0x3d, 2], [0x3e, 2], [0x40, 1], [0x5f, 3]] as const) boundary[c] = bits

const isAlnum = (b: number): boolean => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)

function leftOk (edge: Edge, buf: Uint8Array, start: number): boolean {
  if (edge === 'B') return start === 0 || (boundary[buf[start - 1]!]! & 1) !== 0
  // (L): a line start needs the CR or LF itself (the file start does not count in ClamAV 1.4.6)
  return start > 0 && (buf[start - 1] === 0x0a || buf[start - 1] === 0x0d)
}

function rightOk (edge: Edge, buf: Uint8Array, end: number): boolean {
  if (end === buf.length) return true
  const b = buf[end]!
  if (edge === 'B') return (boundary[b]! & 2) !== 0
  if (edge === 'L') return b === 0x0a || (b === 0x0d && buf[end + 1] === 0x0a)
  return !isAlnum(b)
}

/// `::f`: non-alphanumeric (or the file's edge) on both sides, one character back for wide
/// patterns; a match that is the whole layer does not count (as in ClamAV 1.4.6).
function fullwordOk (buf: Uint8Array, start: number, end: number, wide: boolean): boolean {
  if (start === 0 && end === buf.length) return false
  const before = start - (wide ? 2 : 1)
  return (start === 0 || before < 0 || !isAlnum(buf[before]!)) && (end === buf.length || !isAlnum(buf[end]!))
}

function elemAt (e: Elem, buf: Uint8Array, pos: number): boolean {
  const b = buf[pos]!
  switch (e.k) {
    case 'byte': return b === e.v
    case 'mask': return (b & e.mask) === e.v
    case 'set': return e.bytes.includes(b)
    case 'alt': {
      const hit = e.strs.some(s => s.every((v, j) => {
        let x = buf[pos + j]!
        if (e.fold && x >= 0x41 && x <= 0x5a) x |= 0x20
        return x === v
      }))
      return hit !== e.neg
    }
  }
}

function partAt (part: readonly Elem[], buf: Uint8Array, pos: number): number {
  let p = pos
  for (const e of part) {
    const len = elemLength(e)
    if (p + len > buf.length || !elemAt(e, buf, p)) return -1
    p += len
  }
  return p
}

export interface MatchSpan { readonly start: number, readonly end: number }

export interface SearchOptions {
  readonly window: readonly [number, number]
  readonly fullword: boolean
  readonly wide: boolean
  /// Stop after this many matches (counts above it change no ClamAV expression in practice).
  readonly limit: number
}

/// Every match start in the window (one span per start, with the earliest end that passes the checks).
export function findMatches (p: Pattern, buf: Uint8Array, o: SearchOptions): MatchSpan[] {
  const out: MatchSpan[] = []
  const first = p.parts[0]
  if (first === undefined) return out
  // Failed (part, position) pairs: each is tried once, which keeps unbounded gaps linear per start.
  const failed = new Set<number>()
  const rest = (i: number, pos: number, start: number): number => {
    if (i === p.parts.length) {
      if (p.right !== undefined && !rightOk(p.right, buf, pos)) return -1
      if (o.fullword && !fullwordOk(buf, start, pos, o.wide)) return -1
      return pos
    }
    const gap = p.gaps[i - 1] ?? { min: 0, max: 0 }
    const last = gap.max < 0 ? buf.length : Math.min(buf.length, pos + gap.max)
    for (let at = pos + gap.min; at <= last; at++) {
      const key = i * (buf.length + 1) + at
      if (failed.has(key)) continue
      const end = partAt(p.parts[i]!, buf, at)
      const done = end < 0 ? -1 : rest(i + 1, end, start)
      if (done >= 0) return done
      failed.add(key)
    }
    return -1
  }
  const to = Math.min(o.window[1], buf.length)
  for (let s = Math.max(0, o.window[0]); s <= to && out.length < o.limit; s++) {
    if (p.left !== undefined && !leftOk(p.left, buf, s)) continue
    const end = partAt(first, buf, s)
    if (end < 0) continue
    if (o.fullword) failed.clear() // only fullword makes a failure depend on the start
    const done = rest(1, end, s)
    if (done >= 0) out.push({ start: s, end: done })
  }
  return out
}
