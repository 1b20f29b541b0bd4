/// Ext rules: body and logical signatures whose verdict needs more than the streaming anchor scan
/// gives (executable offsets, (B)/(L)/(W) anchors, `::f`, PCRE and byte-compare subsignatures,
/// EntryPoint/NumberOfSections/Container/Intermediates conditions). The stream only makes such a
/// rule a candidate when one of its hex subsignatures occurs anywhere; here the candidate is decided
/// on the layer's bytes, re-parsed once per worker from the source line the compiled DB keeps.
/// A DB without ext rules never reaches this file.
import type { RE2JS } from '../re2.js'
import { parseLogicalLine } from '../signatures/ldb.js'
import { parseBodyLine } from '../signatures/ndb.js'
import { compilePcre, countPcre } from '../signatures/pcre.js'
import { byteCompareHolds } from '../signatures/bytecmp.js'
import { isExecutableOffset, offsetWindow, type Offset } from '../signatures/offset.js'
import { clTypeOf } from '../signatures/cltype.js'
import { readExecutable } from '../executable/read.js'
import type { ExecutableInfo } from '../executable/types.js'
import type { FileType } from '../filetype.js'
import type { BodySignature, Conditions, LogicalSignature } from '../signatures/types.js'
import { holds, parseExpr, type Expr } from './logic.js'
import { findMatches } from './refmatch.js'

/// Where a layer sits: its own type and its containers' types, outermost first.
export interface LayerContext {
  readonly type: FileType
  readonly ancestry: readonly FileType[]
}

const matchLimit = 256

type Parsed =
  | { readonly k: 'body', readonly sig: BodySignature }
  | { readonly k: 'logical', readonly sig: LogicalSignature, readonly expr: Expr, readonly triggers: ReadonlyMap<number, Expr>, readonly res: ReadonlyMap<number, RE2JS> }

/// One layer's facts, computed once and only when a rule asks (executable layout, latin1 text).
class Layer {
  #exe: ExecutableInfo | undefined | null = null
  #text: string | undefined
  constructor (readonly bytes: Uint8Array, readonly ctx: LayerContext) {}
  get exe (): ExecutableInfo | undefined {
    if (this.#exe === null) this.#exe = this.ctx.type === 'pe' || this.ctx.type === 'elf' || this.ctx.type === 'macho' ? readExecutable(this.bytes) : undefined
    return this.#exe
  }

  get text (): string {
    this.#text ??= Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length).toString('latin1')
    return this.#text
  }

  window (o: Offset): [number, number] | undefined {
    return offsetWindow(o, this.bytes.length, isExecutableOffset(o) ? this.exe : undefined)
  }
}

function inRange (v: number | undefined, r: readonly [number, number] | undefined): boolean {
  return r === undefined || (v !== undefined && v >= r[0] && v <= r[1])
}

function conditionsHold (c: Conditions, layer: Layer): boolean {
  if (c.entryPoint !== undefined && !inRange(layer.exe?.entryPoint, c.entryPoint)) return false
  if (c.sections !== undefined && !inRange(layer.exe?.sections.length, c.sections)) return false
  const ancestors = layer.ctx.ancestry.map(clTypeOf)
  if (c.container !== undefined) {
    const parent = ancestors[ancestors.length - 1]
    if (c.container === 'CL_TYPE_ANY' ? parent !== undefined : parent !== c.container) return false
  }
  if (c.intermediates !== undefined) {
    const want = c.intermediates
    if (ancestors.length < want.length) return false
    const tail = ancestors.slice(ancestors.length - want.length)
    if (!want.every((t, i) => t === 'CL_TYPE_ANY' || t === tail[i])) return false
  }
  return true
}

export class ExtRules {
  readonly #parsed = new Map<number, Parsed | undefined>()

  /// Whether the rule whose source line is `source` (string id `id`) holds on this layer.
  holds (id: number, source: string, kind: number, bytes: Uint8Array, ctx: LayerContext): boolean {
    let p = this.#parsed.get(id)
    if (!this.#parsed.has(id)) this.#parsed.set(id, p = parse(source, kind))
    if (p === undefined) return false
    const layer = new Layer(bytes, ctx)
    return p.k === 'body' ? bodyHolds(p.sig, layer) : logicalHolds(p, layer)
  }
}

function parse (source: string, kind: number): Parsed | undefined {
  if (kind === 0) {
    const sig = parseBodyLine(source)
    return typeof sig === 'string' ? undefined : { k: 'body', sig }
  }
  const sig = parseLogicalLine(source)
  if (typeof sig === 'string') return undefined
  const expr = parseExpr(sig.expression, sig.subs.length)
  if (typeof expr === 'string') return undefined
  const triggers = new Map<number, Expr>()
  const res = new Map<number, RE2JS>()
  for (const [i, sub] of sig.subs.entries()) {
    if (sub.k !== 'pcre') continue
    const t = parseExpr(sub.trigger, i)
    const re = compilePcre(sub)
    if (typeof t === 'string' || typeof re === 'string') return undefined
    triggers.set(i, t)
    res.set(i, re)
  }
  return { k: 'logical', sig, expr, triggers, res }
}

function bodyHolds (sig: BodySignature, layer: Layer): boolean {
  const window = layer.window(sig.offset)
  if (window === undefined) return false
  return findMatches(sig.pattern, layer.bytes, { window, fullword: false, wide: false, limit: 1 }).length > 0
}

function logicalHolds (p: Extract<Parsed, { k: 'logical' }>, layer: Layer): boolean {
  const { sig } = p
  const size = layer.bytes.length
  if (sig.fileSize !== undefined && (size < sig.fileSize[0] || size > sig.fileSize[1])) return false
  if (!conditionsHold(sig.conditions, layer)) return false
  const counts = new Int32Array(sig.subs.length)
  const starts: number[][] = sig.subs.map(() => [])
  // Hex subsignatures first, then byte compares (on their trigger's matches), then PCREs (after
  // everything else, as ClamAV runs them, so a trigger may name any earlier subsignature).
  sig.subs.forEach((sub, i) => {
    if (sub.k !== 'hex') return
    const window = layer.window(sub.offset)
    if (window === undefined) return
    const seen = new Set<number>()
    sub.patterns.forEach((pattern, v) => {
      for (const m of findMatches(pattern, layer.bytes, { window, fullword: sub.fullword, wide: sub.wide[v] ?? false, limit: matchLimit })) seen.add(m.start)
    })
    starts[i] = [...seen].sort((a, b) => a - b)
    counts[i] = seen.size
  })
  sig.subs.forEach((sub, i) => {
    if (sub.k === 'bcmp') counts[i] = byteCompareHolds(sub, layer.bytes, starts[sub.trigger] ?? []) ? 1 : 0
  })
  sig.subs.forEach((sub, i) => {
    if (sub.k !== 'pcre') return
    const trigger = p.triggers.get(i); const re = p.res.get(i)
    if (trigger === undefined || re === undefined || !holds(trigger, counts)) return
    const window = sub.offset.kind === 'any' ? undefined : layer.window(sub.offset)
    if (sub.offset.kind !== 'any' && window === undefined) return
    counts[i] = countPcre(re, sub, layer.text, window)
  })
  return holds(p.expr, counts)
}
