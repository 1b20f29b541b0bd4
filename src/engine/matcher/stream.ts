/// One layer's streaming match. The hot loop reads a rolling 4-byte gram per position and probes the
/// anchor Bloom bitmap; hits walk the anchor chain, verify the part's position program, then chain
/// parts across gaps and count subsignatures for logical rules. Bytes are kept across chunks
/// (the last maxPartLen + 8) so a signature split by chunk or spool boundaries still matches;
/// a part whose end lies beyond the current chunk is verified when the next chunk arrives.
/// A text layer of a DB with target-7 rules carries a NormalisedPass (normalised.ts), an HTML layer an
/// HtmlPass (html-pass.ts): each chunk is normalised and matched again as it streams. Ext rules (ext.ts) found by the anchor scan need the
/// layer's bytes once more: `needsBytes` says so after end(), and ext(bytes) gives their names.
import { createHash, type Hash } from 'node:crypto'
import { Op } from './op.js'
import { holds } from './logic.js'
import type { DerivedPass } from './derived.js'
import { sectionHashNames } from './sections.js'
import type { LayerContext } from './ext.js'
import type { Matcher, DbViews } from './matcher.js'

const GOLDEN = 0x9e3779b1
const MAX_CHAIN = 64

export class LayerStream {
  readonly #m: Matcher
  readonly #v: DbViews
  readonly #mask: number
  #size: number
  readonly #gramShift: number
  readonly #headShift: number
  readonly #keep: number
  readonly #short: boolean
  #abs = 0 // stream offset of the current chunk's first byte
  #carry: Uint8Array = new Uint8Array(0) // bytes just before #abs
  #nextGram = 0 // next gram start position not yet scanned
  #pending: number[] = [] // [part, start] pairs waiting for more bytes
  readonly #chains = new Map<number, number[]>() // part → end offsets of chains through it
  readonly #found = new Set<number>() // body rules found
  readonly #counts = new Map<number, Int32Array>() // logical rule → per-subsignature match counts
  readonly #hashes: Array<[number, Hash]> = []
  readonly #ctx: LayerContext
  /// Text layer of a DB with target-7 rules, or HTML layer: its normalised forms, matched alongside.
  readonly #norm: DerivedPass | undefined
  /// What the normalised pass found, and whether end() already returned it.
  #normNames: string[] = []
  #normGiven = false
  /// PE layer of a DB with .mdb/.msb section hashes.
  readonly #sectionHashes: boolean
  #extCandidates: number[] = []
  // the buffer being scanned and its stream offset (the chunk, or carry + chunk head at a boundary)
  #buf: Uint8Array = new Uint8Array(0)
  #bufAbs = 0
  #bufEnd = 0 // stream offset up to which bytes are known
  // carry + the current chunk's head: for parts that start before the chunk
  #joined: Uint8Array = new Uint8Array(0)
  #joinedAbs = 0
  /// Set by end() when an allow-list (.fp/.sfp) hash matched: the layer is clean whatever else matched.
  allowListed = false
  /// Set by end(): bit i when the archive magic embeddedMagics[i] was found (matcher/embedded-rules.ts;
  /// only a stream opened with their target looks for them).
  embedded = 0

  /// `hashes: false` for a normalised stream (ClamAV hashes only the raw layer).
  constructor (m: Matcher, mask: number, size: number, ctx: LayerContext, norm: DerivedPass | undefined, hashes = true) {
    this.#m = m
    this.#v = m.v
    this.#mask = mask
    this.#ctx = ctx
    this.#norm = norm
    this.#sectionHashes = ctx.type === 'pe' && m.sectionTables.length > 0
    this.#size = size
    this.#gramShift = 32 - m.db.params.gramBits
    this.#headShift = m.db.params.gramBits - m.db.params.headBits
    this.#keep = m.db.params.maxPartLen + 8
    this.#short = m.db.params.hasShortAnchors
    if (hashes) m.hashTables.forEach((t, i) => { if (t.count > 0 && t.wants(size)) this.#hashes.push([i, createHash(t.algo)]) })
  }

  /// The hash algorithms this layer pays for (none unless some signature names its size).
  get hashing (): string[] { return this.#hashes.map(([i]) => this.#m.hashTables[i]!.algo) }

  push (bytes: Uint8Array): void {
    if (bytes.length === 0) return
    // A plain Uint8Array view on whatever arrived (Buffers from decoders and readFileSync): the hot
    // loop then sees one array type (a mix of Buffer and Uint8Array made it polymorphic, about a
    // third slower), and slice() below is a copy (Buffer's slice is a view, which would alias a
    // source's reused chunk buffer).
    const chunk = Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
    for (const [, h] of this.#hashes) h.update(chunk)
    if (this.#mask === 0) {
      // No body rule applies (an HTML page whose head shows a marker: ClamAV skips its raw scan),
      // so the anchor scan would find nothing: hashes and the derived forms only.
      this.#abs += chunk.length
      this.#norm?.push(chunk)
      return
    }
    const abs = this.#abs
    const end = abs + chunk.length
    // Boundary region: pending parts and grams that started before this chunk, read from carry + head.
    if (abs > 0) {
      const head = chunk.subarray(0, Math.min(chunk.length, this.#keep))
      const joined = new Uint8Array(this.#carry.length + head.length)
      joined.set(this.#carry, 0)
      joined.set(head, this.#carry.length)
      this.#joined = joined
      this.#joinedAbs = abs - this.#carry.length
      this.#use(joined, this.#joinedAbs)
      this.#retryPending()
      const to = Math.min(abs - 1, this.#bufEnd - 4)
      if (this.#nextGram <= to) { this.#scan(this.#nextGram, to); this.#nextGram = to + 1 }
    }
    this.#use(chunk, abs)
    const to = end - 4
    if (this.#nextGram <= to) { this.#scan(this.#nextGram, to); this.#nextGram = to + 1 }
    // Keep the tail for the next boundary.
    if (chunk.length >= this.#keep) {
      this.#carry = chunk.slice(chunk.length - this.#keep)
    } else {
      const joined = new Uint8Array(Math.min(this.#keep, this.#carry.length + chunk.length))
      const fromCarry = joined.length - chunk.length
      joined.set(this.#carry.subarray(this.#carry.length - fromCarry), 0)
      joined.set(chunk, fromCarry)
      this.#carry = joined
    }
    this.#abs = end
    this.#norm?.push(chunk)
  }

  /// A normalised stream learns its true size at the end (it was opened with the raw size, an upper
  /// bound): FileSize conditions are checked against it.
  resize (size: number): void { this.#size = size }

  /// The names found in this layer (hash, body and logical signatures), in that order.
  end (): string[] {
    const names: string[] = []
    // Last positions: deferred parts and 2-byte anchors in the final 3 bytes.
    this.#use(this.#carry, this.#abs - this.#carry.length)
    this.#joined = this.#carry
    this.#joinedAbs = this.#bufAbs
    this.#retryPending()
    this.#pending = []
    if (this.#short) for (let g = Math.max(this.#nextGram, this.#bufAbs); g + 2 <= this.#bufEnd; g++) this.#probeShort(this.#buf[g - this.#bufAbs]! | this.#buf[g - this.#bufAbs + 1]! << 8, g)
    for (const [i, h] of this.#hashes) {
      for (const hit of this.#m.hashTables[i]!.lookup(h.digest(), this.#size)) {
        if (hit.allow) this.allowListed = true
        else names.push(this.#m.name(hit.name))
      }
    }
    if (this.allowListed) return []
    const v = this.#v
    const [magicRule, magics] = this.#m.db.params.embeddedRules ?? [0, 0]
    for (const rule of this.#found) {
      if (rule - magicRule >= 0 && rule - magicRule < magics) this.embedded |= 1 << (rule - magicRule)
      else if (v.ruleSrc[rule]! >= 0) this.#extCandidates.push(rule)
      else names.push(this.#m.name(v.ruleName[rule]!))
    }
    for (const [rule, counts] of this.#counts) {
      const max = v.ruleSizeMax[rule]!
      if (max >= 0 && (this.#size < v.ruleSizeMin[rule]! || this.#size > max)) continue
      const expr = this.#m.expr(rule)
      if (expr !== undefined && holds(expr, counts)) names.push(this.#m.name(v.ruleName[rule]!))
    }
    // The normalised pass's names come after the raw layer's, ext ones included: with raw ext work
    // pending, ext() gives them. Not needed when the raw layer already decided.
    if (names.length === 0 && this.#norm !== undefined) {
      this.#normNames = this.#norm.end()
      if (this.#extCandidates.length === 0 && !this.#sectionHashes) {
        names.push(...this.#normNames)
        this.#normGiven = true
      }
    }
    return names
  }

  /// After end(): whether ext() has work (ext candidates, or a normalised-text pass).
  get needsBytes (): boolean {
    return !this.allowListed && (this.#extCandidates.length > 0 || this.#sectionHashes || (this.#normNames.length === 0 && this.#norm?.needsBytes === true))
  }

  /// The ext candidates that hold on the layer's bytes, PE section-hash names, then what the normalised-text
  /// pass finds (first detection decides, so it stops at the first name).
  ext (bytes: Uint8Array): string[] {
    const names: string[] = []
    const v = this.#v
    for (const rule of this.#extCandidates) {
      const src = v.ruleSrc[rule]!
      if (this.#m.ext.holds(src, this.#m.name(src), v.ruleKind[rule]!, bytes, this.#ctx)) names.push(this.#m.name(v.ruleName[rule]!))
    }
    if (this.#sectionHashes && names.length === 0) names.push(...sectionHashNames(this.#m.sectionTables, bytes, id => this.#m.name(id)))
    if (names.length > 0 || this.#norm === undefined) return names
    if (!this.#normGiven) names.push(...this.#normNames)
    if (names.length === 0 && this.#norm.needsBytes) names.push(...this.#norm.ext(bytes))
    return names
  }

  #use (buf: Uint8Array, abs: number): void {
    this.#buf = buf
    this.#bufAbs = abs
    this.#bufEnd = abs + buf.length
  }

  /// The hot loop: grams starting at stream offsets from..to (inclusive), all inside #buf.
  #scan (from: number, to: number): void {
    const buf = this.#buf
    const base = this.#bufAbs
    const kernel = this.#m.kernel
    if (kernel !== undefined && to - from >= 256) {
      const gs = this.#gramShift
      const bloom = this.#v.bloom
      const bloom2 = this.#v.bloom2
      const short = this.#short
      kernel.run(buf, from - base, to - base, i => {
        const x = buf[i]! | buf[i + 1]! << 8 | buf[i + 2]! << 16 | buf[i + 3]! << 24
        const h = Math.imul(x, GOLDEN) >>> gs
        if ((bloom[h >>> 5]! & (1 << (h & 31))) !== 0) this.#probe(x >>> 0, h, i + base)
        if (short && (bloom2[(x & 0xffff) >>> 5]! & (1 << (x & 31))) !== 0) this.#probeShort(x & 0xffff, i + base)
      })
      return
    }
    const bloom = this.#v.bloom
    const gs = this.#gramShift
    const short = this.#short
    const bloom2 = this.#v.bloom2
    let i = from - base
    const last = to - base
    let x = (buf[i]! | buf[i + 1]! << 8 | buf[i + 2]! << 16) << 8
    for (; i <= last; i++) {
      x = (x >>> 8) | (buf[i + 3]! << 24)
      const h = Math.imul(x, GOLDEN) >>> gs
      if ((bloom[h >>> 5]! & (1 << (h & 31))) !== 0) this.#probe(x >>> 0, h, i + base)
      if (short && (bloom2[(x & 0xffff) >>> 5]! & (1 << (x & 31))) !== 0) this.#probeShort(x & 0xffff, i + base)
    }
  }

  #probe (gram: number, h: number, g: number): void {
    const v = this.#v
    for (let e = v.heads[h >>> this.#headShift]!; e >= 0; e = v.entNext[e]!) {
      if (v.entGram[e] !== gram) continue
      this.#candidate(v.entPart[e]!, g - v.entOff[e]!)
    }
  }

  #probeShort (gram: number, g: number): void {
    const v = this.#v
    for (let e = v.heads2[gram]!; e >= 0; e = v.entNext[e]!) this.#candidate(v.entPart[e]!, g - v.entOff[e]!)
  }

  #candidate (part: number, start: number): void {
    const v = this.#v
    if (start < 0 || ((this.#mask >>> v.partTarget[part]!) & 1) === 0) return
    const rule = v.subRule[v.partSub[part]!]!
    if (this.#found.has(rule)) return
    if (start + v.partLen[part]! > this.#bufEnd) {
      // Not all bytes here yet; past the object's end it can never match.
      if (start + v.partLen[part]! <= this.#size) this.#pending.push(part, start)
      return
    }
    // A part may begin before the chunk its anchor is in: read it from carry + head.
    let buf = this.#buf
    let at = start - this.#bufAbs
    if (at < 0) {
      buf = this.#joined
      at = start - this.#joinedAbs
      if (at < 0) return // cannot happen while #keep ≥ maxPartLen; a guard
    }
    if (this.#verify(part, buf, at)) this.#occurrence(part, start)
  }

  #retryPending (): void {
    const pending = this.#pending
    this.#pending = []
    for (let i = 0; i < pending.length; i += 2) this.#candidate(pending[i]!, pending[i + 1]!)
  }

  /// Checks a part's position program against #buf at index at.
  #verify (part: number, buf: Uint8Array, at: number): boolean {
    const v = this.#v
    let pos = at
    const first = v.partElem[part]!
    const stop = first + v.partElems[part]!
    for (let e = first; e < stop; e++) {
      const a = v.elemA[e]!
      switch (v.elemOp[e]! as Op) {
        case Op.Byte: if (buf[pos] !== a) return false; pos++; break
        case Op.Mask: if ((buf[pos]! & a) !== v.elemB[e]) return false; pos++; break
        case Op.Set: { const b = buf[pos]!; if ((v.sets[a * 8 + (b >>> 5)]! & (1 << (b & 31))) === 0) return false; pos++; break }
        case Op.Alt: if (!this.#alt(a, buf, pos)) return false; pos += v.elemB[e]!
      }
    }
    return true
  }

  #alt (id: number, buf: Uint8Array, pos: number): boolean {
    const v = this.#v
    const len = v.altLen[id]!
    const flags = v.altFlags[id]!
    const fold = (flags & 2) !== 0
    let any = false
    for (let k = 0, o = v.altStart[id]!; k < v.altCount[id]! && !any; k++, o += len) {
      let same = true
      for (let j = 0; j < len && same; j++) {
        let b = buf[pos + j]!
        if (fold && b >= 0x41 && b <= 0x5a) b |= 0x20
        same = b === v.altBytes[o + j]
      }
      any = same
    }
    return any !== ((flags & 1) !== 0)
  }

  /// A verified part occurrence: check the offset (first part) or the gap to a chain through the
  /// previous part, then either extend the chain or complete the subsignature.
  #occurrence (part: number, start: number): void {
    const v = this.#v
    const sub = v.partSub[part]!
    const idx = v.partIdx[part]!
    if (idx === 0) {
      const kind = v.subOffKind[sub]!
      if (kind !== 0) {
        const base = kind === 1 ? v.subOffBase[sub]! : this.#size - v.subOffBase[sub]!
        if (start < base || start > base + v.subOffShift[sub]!) return
      }
    } else {
      const ends = this.#chains.get(part - 1)
      if (ends === undefined) return
      const min = v.partGapMin[part]!
      const max = v.partGapMax[part]!
      let ok = false
      for (const e of ends) {
        const gap = start - e
        if (gap >= min && (max < 0 || gap <= max)) { ok = true; break }
      }
      if (!ok) return
    }
    if (idx === v.subParts[sub]! - 1) { this.#complete(sub); return }
    const end = start + v.partLen[part]!
    let ends = this.#chains.get(part)
    if (ends === undefined) { this.#chains.set(part, [end]); return }
    // An unbounded next gap only needs the earliest end; a bounded one needs recent ends.
    if (v.partGapMax[part + 1]! < 0) {
      if (end < ends[0]!) ends[0] = end
      return
    }
    if (ends.includes(end)) return
    ends.push(end)
    if (ends.length > MAX_CHAIN) ends = ends.slice(ends.length - MAX_CHAIN / 2)
    this.#chains.set(part, ends)
  }

  #complete (sub: number): void {
    const v = this.#v
    const rule = v.subRule[sub]!
    // Body rules, and ext rules of either kind (ext.ts counts their subsignatures itself).
    if (v.ruleKind[rule] === 0 || v.ruleSrc[rule]! >= 0) { this.#found.add(rule); return }
    let counts = this.#counts.get(rule)
    if (counts === undefined) this.#counts.set(rule, counts = new Int32Array(v.ruleSubs[rule]!))
    counts[v.subIndex[sub]!]!++
  }
}
