/// Compiles body and logical signatures into flat typed arrays: rules → subsignatures → fixed parts →
/// position programs, plus an anchor index. Every part gets an anchor, a 4-byte (or failing that
/// 2-byte) window of positions with few possible values; the scan loop looks anchors up in a Bloom
/// bitmap and a chained hash table (Aho-Corasick's job with one probe per byte), and only anchor
/// hits verify the rest of the part and the gaps between parts.
import { Grow, type StringTable } from './growable.js'
import { elemLength, type Elem, type Pattern } from '../signatures/hex.js'
import { anyOffset, type Offset } from '../signatures/offset.js'
import type { BodySignature, LogicalSignature } from '../signatures/types.js'
import { Op } from './op.js'
/// Offset kinds the stream checks itself; executable offsets belong to ext rules (checked in ext.ts).
export const offsetKinds = ['any', 'abs', 'eof'] as const

interface Anchor { readonly off: number, readonly len: 2 | 4, readonly grams: readonly number[] }

/// Possible byte values at a position, or undefined when too many (wildcards, alternations of strings).
function values (e: Elem): readonly number[] | undefined {
  if (e.k === 'byte') return [e.v]
  if (e.k === 'set') return e.bytes.length <= 16 ? e.bytes : undefined
  if (e.k === 'mask' && (e.mask === 0xf0 || e.mask === 0x0f)) {
    const out: number[] = []
    for (let n = 0; n < 16; n++) out.push(e.mask === 0xf0 ? e.v | n : e.v | (n << 4))
    return out
  }
  return undefined
}

/// Bytes frequent in real files (zero runs, 0xff fill, spaces) make poor anchors.
const commonness = (b: number): number => (b === 0 || b === 0xff || b === 0x20 || b === 0x90 ? 3 : 0)

function expand (cols: readonly (readonly number[])[]): number[] {
  let grams = [0]
  cols.forEach((vals, i) => { grams = grams.flatMap(g => vals.map(v => (g | (v << (8 * i))) >>> 0)) })
  return grams
}

/// The cheapest window of one part: fewest expansions, then rarest bytes.
export function chooseAnchor (part: readonly Elem[]): Anchor | undefined {
  const flat: Array<readonly number[] | undefined> = []
  for (const e of part) {
    const v = values(e)
    for (let i = 0; i < elemLength(e); i++) flat.push(v)
  }
  for (const len of [4, 2] as const) {
    let best: { off: number, cost: number } | undefined
    for (let off = 0; off + len <= flat.length; off++) {
      let n = 1; let penalty = 0
      const first = flat[off]
      let same = true
      for (let j = 0; j < len; j++) {
        const v = flat[off + j]
        if (v === undefined) { n = Infinity; break }
        n *= v.length
        if (v.length === 1) penalty += commonness(v[0]!)
        if (v !== first && !(v.length === 1 && first?.length === 1 && v[0] === first[0])) same = false
      }
      if (n > 16) continue
      const cost = n * 10 + penalty + (same ? 20 : 0)
      if (best === undefined || cost < best.cost) best = { off, cost }
    }
    if (best !== undefined) {
      const cols = flat.slice(best.off, best.off + len) as Array<readonly number[]>
      return { off: best.off, len, grams: expand(cols) }
    }
  }
  return undefined
}

/// Why a pattern cannot be compiled (a part without any anchorable window), or undefined.
export function unanchorable (p: Pattern): string | undefined {
  for (const part of p.parts) if (chooseAnchor(part) === undefined) return 'unsupported:a part without two fixed bytes'
  return undefined
}

export const enum RuleKind { Body = 0, Logical = 1 }

export class BodyCompiler {
  readonly #strings: StringTable
  // rules
  readonly ruleName = new Grow(Int32Array); readonly ruleKind = new Grow(Int32Array); readonly ruleTarget = new Grow(Int32Array)
  readonly ruleExpr = new Grow(Int32Array); readonly ruleSubs = new Grow(Int32Array)
  readonly ruleSizeMin = new Grow(Int32Array); readonly ruleSizeMax = new Grow(Int32Array)
  /// Ext rules (see matcher/ext.ts): string id of the source line, -1 for rules the stream decides.
  readonly ruleSrc = new Grow(Int32Array)
  /// Bit t set: some ext rule has target t (layers of other types never keep their bytes for ext.ts).
  extTargets = 0
  /// Whether some rule has target 7 (normalised text): only then do text layers get a normalised pass.
  textTarget = false
  // subsignatures (one per pattern variant)
  readonly subRule = new Grow(Int32Array); readonly subIndex = new Grow(Int32Array); readonly subOffKind = new Grow(Int32Array)
  readonly subOffBase = new Grow(Int32Array); readonly subOffShift = new Grow(Int32Array); readonly subParts = new Grow(Int32Array)
  // parts
  readonly partSub = new Grow(Int32Array); readonly partIdx = new Grow(Int32Array); readonly partTarget = new Grow(Int32Array)
  readonly partElem = new Grow(Int32Array); readonly partElems = new Grow(Int32Array); readonly partLen = new Grow(Int32Array)
  readonly partGapMin = new Grow(Int32Array); readonly partGapMax = new Grow(Int32Array)
  // position programs
  readonly elemOp = new Grow(Uint8Array); readonly elemA = new Grow(Int32Array); readonly elemB = new Grow(Int32Array)
  readonly sets = new Grow(Uint32Array)
  readonly altStart = new Grow(Int32Array); readonly altCount = new Grow(Int32Array); readonly altLen = new Grow(Int32Array)
  readonly altFlags = new Grow(Int32Array); readonly altBytes = new Grow(Uint8Array)
  // anchors (entries; tables are built in finish())
  readonly entGram = new Grow(Uint32Array); readonly entPart = new Grow(Int32Array); readonly entOff = new Grow(Int32Array)
  readonly entShort = new Grow(Uint8Array)
  maxPartLen = 4

  constructor (strings: StringTable) { this.#strings = strings }

  get rules (): number { return this.ruleName.length }

  /// Ext rules enter the anchor index with their offsets widened to `*`: an anchor hit only makes the
  /// rule a candidate, and ext.ts checks offsets, anchors and the rest on the layer's bytes.
  body (sig: BodySignature): void {
    const rule = this.#rule(sig.name, RuleKind.Body, sig.target, -1, 1, undefined, sig.ext ? sig.source : undefined)
    this.#sub(rule, 0, sig.target, sig.ext ? anyOffset : sig.offset, sig.pattern)
  }

  logical (sig: LogicalSignature): void {
    const rule = this.#rule(sig.name, RuleKind.Logical, sig.target, this.#strings.add(sig.expression), sig.subs.length, sig.fileSize, sig.ext ? sig.source : undefined)
    sig.subs.forEach((sub, i) => {
      if (sub.k !== 'hex') return
      for (const p of sub.patterns) this.#sub(rule, i, sig.target, sig.ext ? anyOffset : sub.offset, p)
    })
  }

  #rule (name: string, kind: RuleKind, target: number, expr: number, subs: number, size: readonly [number, number] | undefined, source: string | undefined): number {
    this.ruleSrc.push(source === undefined ? -1 : this.#strings.add(source))
    if (source !== undefined) this.extTargets |= target === 0 ? -1 : 1 << target
    if (target === 7) this.textTarget = true
    this.ruleKind.push(kind)
    this.ruleTarget.push(target)
    this.ruleExpr.push(expr)
    this.ruleSubs.push(subs)
    this.ruleSizeMin.push(size === undefined ? 0 : Math.min(size[0], 0x7fffffff))
    this.ruleSizeMax.push(size === undefined ? -1 : Math.min(size[1], 0x7fffffff))
    return this.ruleName.push(this.#strings.add(name))
  }

  #sub (rule: number, index: number, target: number, offset: Offset, p: Pattern): void {
    const sub = this.subRule.push(rule)
    this.subIndex.push(index)
    const kind = offsetKinds.indexOf(offset.kind as typeof offsetKinds[number])
    if (kind < 0) throw new Error('an executable offset reached the stream compiler outside an ext rule')
    this.subOffKind.push(kind)
    this.subOffBase.push(Math.min(offset.base, 0x7fffffff))
    this.subOffShift.push(Math.min(offset.shift, 0x7fffffff))
    this.subParts.push(p.parts.length)
    p.parts.forEach((part, i) => {
      const gap = i === 0 ? { min: 0, max: -1 } : p.gaps[i - 1] ?? { min: 0, max: -1 }
      const id = this.partSub.push(sub)
      this.partIdx.push(i)
      this.partTarget.push(target)
      this.partGapMin.push(gap.min)
      this.partGapMax.push(gap.max)
      this.partElem.push(this.elemOp.length)
      this.partElems.push(part.length)
      let len = 0
      for (const e of part) { this.#elem(e); len += elemLength(e) }
      this.partLen.push(len)
      this.maxPartLen = Math.max(this.maxPartLen, len)
      const anchor = chooseAnchor(part)
      if (anchor === undefined) throw new Error('unanchorable part reached the compiler')
      for (const g of anchor.grams) {
        this.entGram.push(g); this.entPart.push(id); this.entOff.push(anchor.off); this.entShort.push(anchor.len === 2 ? 1 : 0)
      }
    })
  }

  #elem (e: Elem): void {
    switch (e.k) {
      case 'byte': this.elemOp.push(Op.Byte); this.elemA.push(e.v); this.elemB.push(0); break
      case 'mask': this.elemOp.push(Op.Mask); this.elemA.push(e.mask); this.elemB.push(e.v); break
      case 'set': {
        const words = this.sets.grab(8)
        for (const b of e.bytes) words[b >>> 5]! |= 1 << (b & 31)
        this.elemOp.push(Op.Set); this.elemA.push(this.sets.length / 8 - 1); this.elemB.push(0)
        break
      }
      case 'alt': {
        const width = e.strs[0]?.length ?? 0
        const id = this.altStart.push(this.altBytes.length)
        for (const s of e.strs) this.altBytes.append(s)
        this.altCount.push(e.strs.length); this.altLen.push(width); this.altFlags.push((e.neg ? 1 : 0) | (e.fold ? 2 : 0))
        this.elemOp.push(Op.Alt); this.elemA.push(id); this.elemB.push(width)
        break
      }
    }
  }

  /// The anchor index: Bloom bitmap + bucket heads + chains for 4-byte grams; direct tables for 2-byte.
  finish (): { arrays: Record<string, Int32Array | Uint32Array | Uint8Array>, gramBits: number, headBits: number, hasShort: boolean } {
    const n = this.entGram.length
    const gramBits = Math.min(24, Math.max(16, Math.ceil(Math.log2(Math.max(1, n) * 512))))
    const headBits = Math.min(gramBits, Math.max(8, Math.ceil(Math.log2(Math.max(1, n))) + 1))
    const bloom = new Uint32Array(1 << (gramBits - 5))
    const heads = new Int32Array(1 << headBits).fill(-1)
    const bloom2 = new Uint32Array(2048)
    const heads2 = new Int32Array(65536).fill(-1)
    const next = new Int32Array(n)
    const grams = this.entGram.view
    const short = this.entShort.view
    let hasShort = false
    for (let e = n - 1; e >= 0; e--) {
      const g = grams[e]!
      if (short[e] === 1) {
        hasShort = true
        bloom2[g >>> 5]! |= 1 << (g & 31)
        next[e] = heads2[g]!
        heads2[g] = e
      } else {
        const h = Math.imul(g, 0x9e3779b1) >>> (32 - gramBits)
        bloom[h >>> 5]! |= 1 << (h & 31)
        const slot = h >>> (gramBits - headBits)
        next[e] = heads[slot]!
        heads[slot] = e
      }
    }
    const arrays: Record<string, Int32Array | Uint32Array | Uint8Array> = {
      bloom, heads, bloom2, heads2, entNext: next,
    }
    for (const key of ['ruleName', 'ruleKind', 'ruleTarget', 'ruleExpr', 'ruleSubs', 'ruleSizeMin', 'ruleSizeMax', 'ruleSrc',
      'subRule', 'subIndex', 'subOffKind', 'subOffBase', 'subOffShift', 'subParts',
      'partSub', 'partIdx', 'partTarget', 'partElem', 'partElems', 'partLen', 'partGapMin', 'partGapMax',
      'elemOp', 'elemA', 'elemB', 'sets', 'altStart', 'altCount', 'altLen', 'altFlags', 'altBytes',
      'entGram', 'entPart', 'entOff'] as const) {
      arrays[key] = this[key].view
    }
    return { arrays, gramBits, headBits, hasShort }
  }
}
