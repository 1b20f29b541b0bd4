/// Matcher: the read side of a CompiledDb, built once per worker on views of the shared buffer (no
/// copy). begin(type, size) opens one layer's stream; the stream does the per-byte anchor scan,
/// verification, multi-part chaining, logical rules and hashing (stream.ts).
import { views, type CompiledDb } from './db.js'
import { HashTable } from './hashtab.js'
import { parseExpr, type Expr } from './logic.js'
import { LayerStream } from './stream.js'
import { AnchorKernel, type KernelBody } from './kernel.js'
import { sharedKernelMemory, type WasmMemory } from './kernel-memory.js'
import { targetMask } from '../signatures/target.js'
import { embeddedTarget } from './embedded-rules.js'
import { ExtRules, type LayerContext } from './ext.js'
import type { FileType } from '../filetype.js'
import { NormalisedPass, maxNormaliseBytes } from './normalised.js'
import { HtmlPass, htmlMarkerInHead, maxHtmlNormaliseBytes } from './html-pass.js'

/// Typed views on every section, by name (see compile.ts and hashtab.ts for their meaning).
export class DbViews {
  readonly bloom: Uint32Array; readonly heads: Int32Array; readonly bloom2: Uint32Array; readonly heads2: Int32Array
  readonly entNext: Int32Array; readonly entGram: Uint32Array; readonly entPart: Int32Array; readonly entOff: Int32Array
  readonly ruleName: Int32Array; readonly ruleKind: Int32Array; readonly ruleExpr: Int32Array; readonly ruleSubs: Int32Array
  readonly ruleSizeMin: Int32Array; readonly ruleSizeMax: Int32Array; readonly ruleSrc: Int32Array
  readonly subRule: Int32Array; readonly subIndex: Int32Array; readonly subOffKind: Int32Array
  readonly subOffBase: Int32Array; readonly subOffShift: Int32Array; readonly subParts: Int32Array
  readonly partSub: Int32Array; readonly partIdx: Int32Array; readonly partTarget: Int32Array; readonly partElem: Int32Array
  readonly partElems: Int32Array; readonly partLen: Int32Array; readonly partGapMin: Int32Array; readonly partGapMax: Int32Array
  readonly elemOp: Uint8Array; readonly elemA: Int32Array; readonly elemB: Int32Array; readonly sets: Uint32Array
  readonly altStart: Int32Array; readonly altCount: Int32Array; readonly altLen: Int32Array; readonly altFlags: Int32Array
  readonly altBytes: Uint8Array
  readonly strOff: Uint32Array; readonly strBytes: Uint8Array

  constructor (db: CompiledDb) {
    const v = views(db)
    const get = <T>(name: string): T => {
      const a = v[name]
      if (a === undefined) throw new Error(`compiled DB lacks section ${name}`)
      return a as T
    }
    this.bloom = get('bloom'); this.heads = get('heads'); this.bloom2 = get('bloom2'); this.heads2 = get('heads2')
    this.entNext = get('entNext'); this.entGram = get('entGram'); this.entPart = get('entPart'); this.entOff = get('entOff')
    this.ruleName = get('ruleName'); this.ruleKind = get('ruleKind'); this.ruleExpr = get('ruleExpr'); this.ruleSubs = get('ruleSubs')
    this.ruleSizeMin = get('ruleSizeMin'); this.ruleSizeMax = get('ruleSizeMax'); this.ruleSrc = get('ruleSrc')
    this.subRule = get('subRule'); this.subIndex = get('subIndex'); this.subOffKind = get('subOffKind')
    this.subOffBase = get('subOffBase'); this.subOffShift = get('subOffShift'); this.subParts = get('subParts')
    this.partSub = get('partSub'); this.partIdx = get('partIdx'); this.partTarget = get('partTarget'); this.partElem = get('partElem')
    this.partElems = get('partElems'); this.partLen = get('partLen'); this.partGapMin = get('partGapMin'); this.partGapMax = get('partGapMax')
    this.elemOp = get('elemOp'); this.elemA = get('elemA'); this.elemB = get('elemB'); this.sets = get('sets')
    this.altStart = get('altStart'); this.altCount = get('altCount'); this.altLen = get('altLen'); this.altFlags = get('altFlags')
    this.altBytes = get('altBytes')
    this.strOff = get('strOff'); this.strBytes = get('strBytes')
  }
}

/// The WebAssembly kernel, or undefined (the JS loop then does the same work) where WebAssembly is unavailable.
function tryKernel (v: DbViews, db: CompiledDb, shared: WasmMemory | undefined, body: KernelBody | undefined): AnchorKernel | undefined {
  try {
    return new AnchorKernel(v.bloom, v.bloom2, db.params.gramBits, db.params.hasShortAnchors, shared, body)
  } catch {
    return undefined
  }
}

/// The kernel memory the threads matching with this DB share (its Bloom bitmaps, once), with a scan
/// slot for each of `threads` kernels, to pass to each one's Matcher as options.kernelMemory;
/// undefined where WebAssembly or shared memory is unavailable. The pool frees a gone worker's slot
/// with releaseKernelSlots().
export function kernelMemoryFor (db: CompiledDb, threads: number): WasmMemory | undefined {
  try {
    const v = views(db)
    return sharedKernelMemory(v['bloom'] as Uint32Array, v['bloom2'] as Uint32Array, threads)
  } catch {
    return undefined
  }
}

export interface MatcherOptions {
  /// false: the JS anchor loop only (the reference path; benchmarks compare both).
  readonly kernel?: boolean
  /// kernelMemoryFor(db), made once by the thread that starts the workers: the kernel then maps the
  /// shared Bloom bitmaps instead of copying them.
  readonly kernelMemory?: WasmMemory | undefined
  /// The kernel's function body (kernel.ts): by default SIMD where it runs, else scalar. Tests and
  /// benchmarks ask for one; asking for 'simd' where it does not run leaves the JS loop.
  readonly kernelBody?: KernelBody | undefined
}

export class Matcher {
  readonly version: string
  readonly db: CompiledDb
  readonly v: DbViews
  readonly hashTables: readonly HashTable[]
  /// .mdb/.msb section-hash tables (empty when the DB has none).
  readonly sectionTables: readonly HashTable[]
  /// The WebAssembly anchor scan (undefined: the JS loop only).
  readonly kernel: AnchorKernel | undefined
  readonly #exprs = new Map<number, Expr>()
  readonly #names = new Map<number, string>()
  readonly #masks = new Map<FileType, number>()
  /// Ext rules (ext.ts), parsed on first need.
  readonly ext = new ExtRules()
  /// Some target-0/7 subsignature is anchored at EOF-n: the normalised pass must know its size first.
  readonly #normaliseBuffered: boolean
  /// The DB has target-0/3/7 body subsignatures: HTML layers get the normalised-HTML pass (its
  /// javascript form is matched with target 7 too).
  readonly #htmlBodies: boolean
  /// Some target-0/3/7 subsignature is anchored at EOF-n: the javascript form is kept until its size is known.
  readonly #scriptBuffered: boolean
  /// Some target-0/3 subsignature is anchored at EOF-n: the HTML forms are kept until their size is known.
  readonly #htmlBuffered: boolean
  readonly #kernelWanted: boolean

  constructor (db: CompiledDb, options: MatcherOptions = {}) {
    this.db = db
    this.version = db.version
    this.v = new DbViews(db)
    const sectionViews = views(db)
    const get = (name: string): Int32Array | Uint8Array => sectionViews[name] as Int32Array | Uint8Array
    this.hashTables = [0, 1, 2].map(i => new HashTable(i, get, db.params.hashAnySize[i] ?? false))
    this.sectionTables = db.params.sectionHashes > 0 ? [0, 1, 2].map(i => new HashTable(i, get, db.params.sectionHashAnySize[i] ?? false, 's')) : []
    this.kernel = options.kernel === false ? undefined : tryKernel(this.v, db, options.kernelMemory, options.kernelBody)
    this.#kernelWanted = options.kernel !== false
    this.#normaliseBuffered = db.params.textTarget && eofAnchored(this.v, TEXT_TARGETS)
    this.#htmlBodies = hasTargets(this.v, SCRIPT_TARGETS)
    this.#htmlBuffered = this.#htmlBodies && eofAnchored(this.v, HTML_TARGETS)
    this.#scriptBuffered = this.#htmlBodies && eofAnchored(this.v, SCRIPT_TARGETS)
  }

  /// Starts matching one layer: `type` selects target-typed signatures, `size` resolves EOF offsets
  /// and hash-size filtering, `ancestry` (the containers' types, outermost first) is for the
  /// Container/Intermediates conditions. A text layer of a DB with target-7 rules matches those on
  /// its normalised text only (normalised.ts, target-0 rules too), as ClamAV does: up to ClamAV's
  /// MaxScriptNormalize; a larger text layer gets the raw pass alone (target 0, as ClamAV's raw scan
  /// of text: neither matches target-7 rules on it). An HTML layer's normalised forms are matched
  /// with targets 0 and 3 (html-pass.ts), up to ClamAV's MaxHTMLNormalize; its raw bytes with target
  /// 0, or with no body rule when `head` (its first bytes) shows an HTML marker, as in ClamAV.
  /// `extraTargets`: target bits added to the raw stream's (not an HTML page's): embedded-rules.ts's.
  begin (type: FileType, size: number, ancestry: readonly FileType[] = [], head?: Uint8Array, extraTargets = 0): LayerStream {
    let mask = this.#masks.get(type)
    if (mask === undefined) this.#masks.set(type, mask = targetMask(type))
    mask |= extraTargets
    const ctx: LayerContext = { type, ancestry }
    if (type === 'html') {
      const script = { open: (n: number) => this.#beginDerived(SCRIPT_TARGETS, n, ctx), buffered: this.#scriptBuffered }
      const html = this.#htmlBodies && size <= maxHtmlNormaliseBytes ? new HtmlPass(n => this.#beginDerived(HTML_TARGETS, n, ctx), size, this.#htmlBuffered, script) : undefined
      return new LayerStream(this, head !== undefined && htmlMarkerInHead(head) ? 0 : 1, size, ctx, html)
    }
    if (type !== 'text' || !this.db.params.textTarget) return new LayerStream(this, mask, size, ctx, undefined)
    const norm = size > maxNormaliseBytes ? undefined : new NormalisedPass(n => this.#beginDerived(TEXT_TARGETS, n, ctx), size, this.#normaliseBuffered, { kernel: this.#kernelWanted })
    return new LayerStream(this, mask & ~(1 << 7), size, ctx, norm)
  }

  /// A normalised form of a layer (text, or HTML's two): its targets' rules, no hashes.
  #beginDerived (targets: number, size: number, ctx: LayerContext): LayerStream {
    return new LayerStream(this, targets, size, ctx, undefined, false)
  }

  /// Matches a whole layer held in memory: end() and, when needed, ext() on the same bytes. With
  /// `embedded` (where findsEmbedded(type)), the archive magics too: `embedded` says which were found.
  matchAll (bytes: Uint8Array, type: FileType, ancestry: readonly FileType[] = [], { embedded = false } = {}): { names: string[], allowListed: boolean, embedded: number } {
    const s = this.begin(type, bytes.length, ancestry, bytes, embedded ? 1 << embeddedTarget : 0)
    s.push(bytes)
    const names = s.end()
    if (names.length === 0 && s.needsBytes) names.push(...s.ext(bytes))
    return { names, allowListed: s.allowListed, embedded: s.embedded }
  }

  /// Whether matchAll can find the archive magics in a layer of this type: the DB has their rules,
  /// and the layer's raw bytes get the anchor scan (an HTML page's raw scan may be skipped).
  findsEmbedded (type: FileType): boolean {
    return this.db.params.embeddedRules !== undefined && type !== 'html'
  }

  /// A signature name by string id (decoded lazily: only matches need names).
  name (id: number): string {
    let s = this.#names.get(id)
    if (s === undefined) {
      const { strOff, strBytes } = this.v
      s = Buffer.from(strBytes.buffer, strBytes.byteOffset + strOff[id]!, strOff[id + 1]! - strOff[id]!).toString('utf8')
      this.#names.set(id, s)
    }
    return s
  }

  /// The parsed logical expression of a rule (parsed once per worker, on first need).
  expr (rule: number): Expr | undefined {
    let e = this.#exprs.get(rule)
    if (e === undefined) {
      const parsed = parseExpr(this.name(this.v.ruleExpr[rule]!), this.v.ruleSubs[rule]!)
      if (typeof parsed === 'string') return undefined
      this.#exprs.set(rule, e = parsed)
    }
    return e
  }
}

/// The targets of normalised text (0 and 7) and of normalised HTML (0 and 3), as target masks.
const TEXT_TARGETS = 1 | (1 << 7)
const HTML_TARGETS = 1 | (1 << 3)
/// The javascript form of a page: ClamAV matches it as HTML and as text.
const SCRIPT_TARGETS = HTML_TARGETS | TEXT_TARGETS

/// Whether a subsignature of one of these targets has an EOF-relative offset (subOffKind 2).
function eofAnchored (v: DbViews, targets: number): boolean {
  for (let part = 0; part < v.partSub.length; part++) {
    if (v.partIdx[part] === 0 && ((targets >>> v.partTarget[part]!) & 1) !== 0 && v.subOffKind[v.partSub[part]!] === 2) return true
  }
  return false
}

/// Whether any body subsignature has one of these targets.
function hasTargets (v: DbViews, targets: number): boolean {
  for (let part = 0; part < v.partTarget.length; part++) if (((targets >>> v.partTarget[part]!) & 1) !== 0) return true
  return false
}
