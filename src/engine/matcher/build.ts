/// Builds a CompiledDb: the loaders stream signatures into this sink, which drops .ign2 names,
/// compiles body/logical rules and hash tables, and packs everything into one SharedArrayBuffer.
import { BodyCompiler } from './compile.js'
import { addEmbeddedRules } from './embedded-rules.js'
import { HashBuilder } from './hashtab.js'
import { StringTable } from './growable.js'
import { pack, type CompiledDb } from './db.js'
import { loadFiles } from '../signatures/load.js'
import { emptyStats, type BodySignature, type HashSignature, type LoadOptions, type LogicalSignature, type SignatureSink } from '../signatures/types.js'

class DbBuilder implements SignatureSink {
  readonly strings = new StringTable()
  readonly bodies = new BodyCompiler(this.strings)
  readonly hashes = new HashBuilder(this.strings)
  readonly sectionHashes = new HashBuilder(this.strings)
  sectionCount = 0
  readonly #ignored = new Set<string>()
  dropped = 0

  ignore (name: string): void { this.#ignored.add(name) }

  #keep (name: string): boolean {
    if (this.#ignored.size === 0 || !this.#ignored.has(name)) return true
    this.dropped++
    return false
  }

  hash (sig: HashSignature): void { if (this.#keep(sig.name)) this.hashes.add(sig) }
  sectionHash (sig: HashSignature): void { if (this.#keep(sig.name)) { this.sectionHashes.add(sig); this.sectionCount++ } }
  body (sig: BodySignature): void { if (this.#keep(sig.name)) this.bodies.body(sig) }
  logical (sig: LogicalSignature): void { if (this.#keep(sig.name)) this.bodies.logical(sig) }
}

/// Compiles the given DB files (see signatures/load.ts) under a known version string.
export function compileDb (files: ReadonlyArray<{ name: string, data: Uint8Array }>, version: string, options: LoadOptions): CompiledDb {
  const stats = emptyStats()
  const builder = new DbBuilder()
  loadFiles(files, builder, options, stats)
  const embeddedRules = addEmbeddedRules(builder.bodies)
  const body = builder.bodies.finish()
  const hash = builder.hashes.finish()
  const sectionHash = builder.sectionHashes.finish('s')
  const { buffer, sections } = pack({
    ...body.arrays,
    ...hash.arrays,
    ...sectionHash.arrays,
    strOff: builder.strings.offsets.view,
    strBytes: builder.strings.bytes.view,
  })
  return {
    version,
    builtAt: Date.now(),
    stats: { ...stats, ignored: builder.dropped },
    params: {
      gramBits: body.gramBits,
      headBits: body.headBits,
      maxPartLen: builder.bodies.maxPartLen,
      hasShortAnchors: body.hasShort,
      hashAnySize: hash.anySize,
      sectionHashAnySize: sectionHash.anySize,
      sectionHashes: builder.sectionCount,
      extTargets: builder.bodies.extTargets,
      textTarget: builder.bodies.textTarget,
      embeddedRules,
    },
    buffer,
    sections,
  }
}

/// Signatures in a compiled DB, as clamscan counts them ("Known viruses").
export function signatureCount (db: CompiledDb): number {
  const s = db.stats
  return s.hashes + s.bodies + s.logicals - s.ignored
}
