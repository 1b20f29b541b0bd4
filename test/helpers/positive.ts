/// Builds a sample that a given body signature must match: every position is filled with a byte
/// it accepts, gaps with random filler of an allowed length, and the whole placed where the offset
/// says. Used to check agreement with clamscan on generated signatures.
import { randomBytes, randomInt } from 'node:crypto'
import type { Elem, Pattern } from '../../src/engine/signatures/hex.js'
import type { Offset } from '../../src/engine/signatures/offset.js'

function fill (e: Elem): number[] {
  switch (e.k) {
    case 'byte': return [e.v]
    case 'mask': return [(e.v | (randomInt(256) & ~e.mask)) & 0xff]
    case 'set': return [e.bytes[randomInt(e.bytes.length)] ?? 0]
    case 'alt': {
      if (!e.neg) return [...(e.strs[randomInt(e.strs.length)] ?? [])]
      for (;;) {
        const s = [...randomBytes(e.strs[0]?.length ?? 1)]
        if (!e.strs.some(x => x.every((b, i) => b === s[i]))) return s
      }
    }
  }
}

export function patternBytes (p: Pattern): Buffer {
  const out: number[] = []
  p.parts.forEach((part, i) => {
    if (i > 0) {
      const gap = p.gaps[i - 1] ?? { min: 0, max: -1 }
      const n = gap.max < 0 ? gap.min + randomInt(40) : gap.min + randomInt(gap.max - gap.min + 1)
      out.push(...randomBytes(n))
    }
    for (const e of part) out.push(...fill(e))
  })
  return Buffer.from(out)
}

/// A whole object holding the pattern at an offset the signature accepts, or undefined when none can.
export function positiveSample (p: Pattern, offset: Offset): Buffer | undefined {
  const sig = patternBytes(p)
  const shift = offset.shift === 0 ? 0 : randomInt(offset.shift + 1)
  if (offset.kind === 'any') return Buffer.concat([randomBytes(randomInt(200)), sig, randomBytes(randomInt(200))])
  if (offset.kind === 'abs') return Buffer.concat([randomBytes(offset.base + shift), sig, randomBytes(randomInt(200))])
  const tail = offset.base - shift - sig.length
  if (tail < 0) return undefined
  return Buffer.concat([randomBytes(randomInt(200)), sig, randomBytes(tail)])
}
