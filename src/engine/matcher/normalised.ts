/// The normalised-text pass of a text layer (ClamAV's cli_scanscript): every chunk the layer's
/// stream matches is normalised (textnorm.ts) and matched again with the target-0 and target-7
/// rules, inside the same single pass over the layer: no second read, no whole-layer copy.
/// One exception, as in ClamAV (which writes the normalised text to a temporary file when its
/// target-7 rules have relative offsets): when the DB has target-0/7 subsignatures anchored at
/// EOF-n, the normalised size must be known before they are matched, so the normalised text is kept
/// in memory (at most the layer's size, itself at most maxNormaliseBytes) and matched at end()
/// (derived.ts).
import { TextNormaliser, normaliseText } from './textnorm.js'
import { DerivedOutput, type DerivedPass, type OpenDerived } from './derived.js'

/// Text layers larger than this are not normalised: ClamAV's MaxScriptNormalize default (20 MB),
/// so the same layers get the pass as with clamscan and clamd at their defaults.
export const maxNormaliseBytes = 20 * 1024 * 1024

export class NormalisedPass implements DerivedPass {
  readonly #normaliser: TextNormaliser
  readonly #output: DerivedOutput

  /// `rawSize` is an upper bound of the normalised size (never longer than the layer).
  constructor (open: OpenDerived, rawSize: number, buffered: boolean, options: { readonly kernel?: boolean } = {}) {
    this.#normaliser = new TextNormaliser(options)
    this.#output = new DerivedOutput(open, rawSize, buffered)
  }

  push (chunk: Uint8Array): void { this.#output.push(this.#normaliser.push(chunk)) }

  /// The kept form's memory is released here when ext() will not need it (LayerStream calls ext()
  /// only when needsBytes), else after ext().
  end (): string[] {
    const names = this.#output.end()
    if (!this.#output.needsBytes) this.#output.release()
    return names
  }

  get needsBytes (): boolean { return this.#output.needsBytes }

  /// Decides the ext candidates on the normalised text: kept, or rebuilt from the raw layer's bytes
  /// (the raw layer is read again for its own ext rules only when it has some, so this is rare).
  ext (raw: Uint8Array): string[] {
    const names = this.#output.ext(this.#output.kept ?? normaliseText(raw))
    this.#output.release()
    return names
  }
}
