/// The normalised-text pass of a text layer (ClamAV's cli_scanscript): every chunk the layer's
/// stream matches is normalised (textnorm.ts) and matched again with the target-0 and target-7
/// rules, inside the same single pass over the layer: no second read, no whole-layer copy.
/// One exception, as in ClamAV (which writes the normalised text to a temporary file when its
/// target-7 rules have relative offsets): when the DB has target-0/7 subsignatures anchored at
/// EOF-n, the normalised size must be known before they are matched, so the normalised text is kept
/// in memory (at most the layer's size, itself at most maxNormaliseBytes) and matched at end().
import { TextNormaliser, normaliseText } from './textnorm.js'
import type { LayerStream } from './stream.js'

/// Text layers larger than this are not normalised: ClamAV's MaxScriptNormalize default (20 MB),
/// so the same layers get the pass as with clamscan and clamd at their defaults.
export const maxNormaliseBytes = 20 * 1024 * 1024

/// Opens the normalised stream: `size` is the normalised size when known, else the raw size (an
/// upper bound, corrected by LayerStream.resize before end()).
export type OpenNormalised = (size: number) => LayerStream

/// A plain Uint8Array view (the stream's hot loop sees one array type) on unzeroed memory.
function unsafeBytes (n: number): Uint8Array {
  const buf = Buffer.allocUnsafeSlow(n)
  return new Uint8Array(buf.buffer, buf.byteOffset, n)
}

export class NormalisedPass {
  readonly #open: OpenNormalised
  readonly #normaliser: TextNormaliser
  /// Streaming: the normalised stream, fed chunk by chunk. Buffered: undefined until end().
  #stream: LayerStream | undefined
  /// Buffered (EOF-relative rules): the normalised text so far.
  #kept: Uint8Array | undefined
  #length = 0

  constructor (open: OpenNormalised, rawSize: number, buffered: boolean, options: { readonly kernel?: boolean } = {}) {
    this.#open = open
    this.#normaliser = new TextNormaliser(options)
    // The normalised text is never longer than the layer: one allocation, no regrowth copies, and
    // not zeroed (allocUnsafe: only the bytes written are ever read).
    if (buffered) this.#kept = unsafeBytes(rawSize)
    else this.#stream = open(rawSize)
  }

  push (chunk: Uint8Array): void {
    const text = this.#normaliser.push(chunk)
    const at = this.#length
    this.#length += text.length
    if (this.#kept === undefined) { this.#stream?.push(text); return }
    if (this.#length > this.#kept.length) { // a source longer than it said (a file that grew)
      const grown = unsafeBytes(this.#length * 2)
      grown.set(this.#kept.subarray(0, at))
      this.#kept = grown
    }
    this.#kept.set(text, at)
  }

  /// The names the normalised text matches (hash-free: ClamAV hashes only the raw layer).
  end (): string[] {
    if (this.#kept !== undefined) {
      this.#stream = this.#open(this.#length)
      this.#stream.push(this.#kept.subarray(0, this.#length))
    }
    const stream = this.#stream
    if (stream === undefined) return []
    stream.resize(this.#length)
    return stream.end()
  }

  /// After end(): whether the normalised stream has ext candidates to decide.
  get needsBytes (): boolean { return this.#stream?.needsBytes ?? false }

  /// Decides the ext candidates on the normalised text: kept, or rebuilt from the raw layer's bytes
  /// (the raw layer is read again for its own ext rules only when it has some, so this is rare).
  ext (raw: Uint8Array): string[] {
    const stream = this.#stream
    if (stream === undefined) return []
    const text = this.#kept?.subarray(0, this.#length) ?? normaliseText(raw)
    return stream.ext(text)
  }
}
