/// The archive magics of embedded.ts as rules of the compiled DB, so that the anchor scan matching a
/// small leaf finds them in the same pass (ClamAV's way: its ZIPSFX/RARSFX/7ZSFX are file-type
/// signatures its matcher finds at any offset). Why: Engine.scanLeaf checked every leaf first with
/// hasEmbeddedMagic, five Buffer.indexOf passes whose memchr restarts at every byte equal to a key's
/// first byte (one in 256 of random bytes): 45-57 µs per 64 KiB body, 10 % of the I/O thread's CPU per
/// 64 KiB request (BENCHMARKS.md, icap64-4). As anchors they cost a few grams in the Bloom bitmap and
/// one verification per true hit. They carry a target of their own, which only the stream of
/// Matcher.matchAll(…, { embedded: true }) asks for (no walk layer looks for them: the walk has its
/// EmbeddedProbe), and LayerStream.end() reports them as bits of `embedded`, never as names.
import type { BodyCompiler } from './compile.js'
import { embeddedMagics } from '../embedded.js'
import { anyOffset } from '../signatures/offset.js'
import type { Elem } from '../signatures/hex.js'

/// The target bit of these rules: past ClamAV's targets (0-14), and no type's targetMask holds it.
export const embeddedTarget = 30

/// Adds one rule per magic (embedded.ts's order: bit i of `embedded` is embeddedMagics[i]);
/// returns [first rule id, count] for DbParams.embeddedRules.
export function addEmbeddedRules (bodies: BodyCompiler): readonly [number, number] {
  const first = bodies.rules
  for (const magic of embeddedMagics) {
    const part: Elem[] = [...magic.bytes].map(v => ({ k: 'byte', v }))
    bodies.body({ name: `Scanwall.Embedded.${magic.type}`, target: embeddedTarget, offset: anyOffset, pattern: { parts: [part], gaps: [] }, ext: false, source: '' })
  }
  return [first, embeddedMagics.length]
}
