/// A form derived from a layer while it streams (ClamAV's normalised text, normalised HTML) and
/// matched as a layer of its own: DerivedPass is what a LayerStream carries beside its raw match,
/// DerivedOutput the match of one derived form. A form is streamed chunk by chunk into its own
/// LayerStream; when the DB has subsignatures anchored at EOF-n for the form's targets, the form's
/// size must be known first, so it is kept in memory and matched at end() (ClamAV writes such forms
/// to a temporary file).
import type { LayerStream } from './stream.js'

/// What a LayerStream calls on its derived pass (normalised.ts, html-pass.ts).
export interface DerivedPass {
  push: (chunk: Uint8Array) => void
  /// The names the derived forms match (after the raw layer found none).
  end: () => string[]
  /// After end(): whether ext() has work.
  readonly needsBytes: boolean
  /// Decides the ext candidates of the derived forms, given the raw layer's bytes.
  ext: (raw: Uint8Array) => string[]
}

/// Opens a derived form's stream: `size` is the form's size when known, else an estimate
/// (corrected by LayerStream.resize before end()).
export type OpenDerived = (size: number) => LayerStream

/// A plain Uint8Array view (the stream's hot loop sees one array type) on unzeroed memory.
function unsafeBytes (n: number): Uint8Array {
  const buf = Buffer.allocUnsafeSlow(n)
  return new Uint8Array(buf.buffer, buf.byteOffset, n)
}

/// The memory of the last kept form this thread finished with, lent to the next: a worker
/// normalises text layer after text layer (every .txt file and every text member of an archive),
/// and fresh memory for each paid its page faults again (writing into fresh memory costs about
/// 0.5 ms of CPU per MiB more than into memory already touched). One is kept, the largest up to
/// `maxSpareBytes`; a form takes it only when it is large enough, and gives it back once nothing
/// reads the form any more (release()), so two forms alive at once never share it.
let spare: Uint8Array | undefined
const maxSpareBytes = 8 * 1024 * 1024

function takeBytes (n: number): Uint8Array {
  const lent = spare
  if (lent === undefined || lent.length < n) return unsafeBytes(n)
  spare = undefined
  return lent
}

function giveBytes (bytes: Uint8Array): void {
  if (bytes.length <= maxSpareBytes && bytes.length > (spare?.length ?? 0)) spare = bytes
}

export class DerivedOutput {
  readonly #open: OpenDerived
  /// Streaming: the form's stream, fed chunk by chunk. Buffered: undefined until end().
  #stream: LayerStream | undefined
  /// Buffered (EOF-relative rules): the form so far.
  #kept: Uint8Array | undefined
  #length = 0

  /// `estimate`: the expected size (the raw size: a normalised form is rarely longer), the first
  /// allocation when buffered; a longer form grows it.
  constructor (open: OpenDerived, estimate: number, buffered: boolean) {
    this.#open = open
    if (buffered) this.#kept = takeBytes(Math.max(estimate, 64))
    else this.#stream = open(estimate)
  }

  push (bytes: Uint8Array): void {
    const at = this.#length
    this.#length += bytes.length
    if (this.#kept === undefined) { if (bytes.length > 0) this.#stream?.push(bytes); return }
    if (this.#length > this.#kept.length) {
      const grown = unsafeBytes(this.#length * 2)
      grown.set(this.#kept.subarray(0, at))
      this.#kept = grown
    }
    this.#kept.set(bytes, at)
  }

  /// The names the form matches (hash-free: ClamAV hashes only the raw layer).
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

  /// After end(): whether the form's stream has ext candidates to decide.
  get needsBytes (): boolean { return this.#stream?.needsBytes ?? false }

  /// The form when it was kept (buffered mode), else undefined: the caller rebuilds it.
  get kept (): Uint8Array | undefined { return this.#kept?.subarray(0, this.#length) }

  /// Decides the ext candidates on the form's bytes.
  ext (form: Uint8Array): string[] {
    return this.#stream?.ext(form) ?? []
  }

  /// Once nothing reads the kept form (after end() when !needsBytes, else after ext()): its memory
  /// goes to the next form this thread keeps. `kept` is undefined from here on.
  release (): void {
    const kept = this.#kept
    this.#kept = undefined
    if (kept !== undefined) giveBytes(kept)
  }
}
