/// How libclamav reads a page it normalises as HTML, reproduced for htmlnorm.ts: pieces of up to
/// 8191 bytes (cli_readchunk with 8192), NULs dropped, and, unless the next byte is whitespace, each
/// piece ended after its last whitespace byte. Where the pieces end changes the normalised forms
/// (each piece's leading whitespace is skipped whatever the state), so the same pieces are cut here
/// from the chunks a stream delivers, whatever their sizes; up to one piece waits for the next chunk.
/// Kept apart from the state machine, which sees only whole pieces without NULs.
import { KERNEL_IN } from './htmlnorm-kernel.js'
import { isSpace } from './htmlnorm-tables.js'

/// libclamav's read size.
const READ = 8191
/// Bytes a run of NULs may hold back at most before the read is cut anyway.
const PENDING_MAX = 1 << 20

/// Where the pieces go: room for the output of n more input bytes first, then each piece, buf[from, to).
export interface PieceSink {
  reserve: (n: number) => void
  run: (buf: Uint8Array, from: number, to: number) => void
}

export class ClamavReads {
  /// Raw bytes waiting for the lookahead that decides where a piece ends.
  #pending = new Uint8Array(0)
  #pendingLen = 0
  #scratch = new Uint8Array(0)
  readonly #sink: PieceSink
  readonly #memory: { readonly bytes: Uint8Array } | undefined

  /// `memory`: when given, every piece is copied to its bytes at KERNEL_IN and run from there (the
  /// text kernel reads it in place); otherwise pieces run from the input, or from a scratch copy
  /// when they hold NULs.
  constructor (sink: PieceSink, memory?: { readonly bytes: Uint8Array }) {
    this.#sink = sink
    this.#memory = memory
  }

  /// The next chunk: false when it only waits (no piece complete yet), true when pieces were run.
  push (chunk: Uint8Array): boolean {
    // A plain Uint8Array view: one array type in the loops (a Buffer here and there made every byte
    // access polymorphic, several times slower).
    let buf = Object.getPrototypeOf(chunk) === Uint8Array.prototype ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)
    const appended = this.#pendingLen > 0 || chunk.length <= READ
    if (appended) {
      // Appended to the bytes waiting (a buffer reused from call to call: small chunks cost their
      // own size); fed once a whole read and its lookahead byte may be there.
      const n = this.#pendingLen + chunk.length
      if (this.#pending.length < n) {
        const grown = new Uint8Array(Math.max(n, 2 * this.#pending.length, 2 * READ + 2))
        grown.set(this.#pending.subarray(0, this.#pendingLen))
        this.#pending = grown
      }
      this.#pending.set(buf, this.#pendingLen)
      this.#pendingLen = n
      if (n <= READ) return false
      buf = this.#pending.subarray(0, n)
    }
    this.#sink.reserve(buf.length)
    const used = this.#feed(buf, false)
    const rest = buf.length - used
    if (appended) {
      this.#pending.copyWithin(0, used, used + rest)
    } else {
      if (this.#pending.length < rest) this.#pending = new Uint8Array(Math.max(rest, 2 * READ + 2))
      this.#pending.set(buf.subarray(used, used + rest))
    }
    this.#pendingLen = rest
    return true
  }

  /// End of input: the bytes still waiting, as the last pieces.
  end (): void {
    this.#sink.reserve(this.#pendingLen)
    this.#feed(this.#pending.subarray(0, this.#pendingLen), true)
    this.#pendingLen = 0
  }

  /// Cuts buf into pieces and runs them; returns how many bytes of buf were used (the rest needs
  /// more input, unless final).
  #feed (buf: Uint8Array, final: boolean): number {
    let pos = 0
    let nul = -1 // the first NUL at or after pos (buf.length: none)
    while (pos < buf.length) {
      if (nul < pos) { nul = buf.indexOf(0, pos); if (nul < 0) nul = buf.length }
      let i = Math.min(pos + READ, buf.length)
      let count = i - pos
      if (nul < i) { // NULs in this read: counted out byte by byte
        i = pos
        count = 0
        while (i < buf.length && count < READ) { if (buf[i] !== 0) count++; i++ }
      }
      // Not enough for a whole read and its lookahead byte: wait (a NUL flood waits at most PENDING_MAX).
      if (!final && (count < READ || i === buf.length) && buf.length - pos < PENDING_MAX) break
      let keep = count
      let next = i
      if (i < buf.length && !isSpace(buf[i]!)) {
        // Back to the last whitespace byte (not the first byte); the raw offset goes back by the
        // bytes given up, counted without NULs, as libclamav does.
        let k = count
        let j = i - 1
        while (k > 1) {
          if (buf[j] !== 0) { if (isSpace(buf[j]!)) break; k-- }
          j--
        }
        if (k > 1) { keep = k; next = i - (count - keep) }
      }
      const memory = this.#memory
      if (memory !== undefined) {
        // The piece into the text kernel's memory (without NULs), where the JS states read it too.
        const mem = memory.bytes
        if (nul >= pos + keep) mem.set(buf.subarray(pos, pos + keep), KERNEL_IN)
        else for (let n = 0, j = pos; n < keep; j++) if (buf[j] !== 0) mem[KERNEL_IN + n++] = buf[j]!
        this.#sink.run(mem, KERNEL_IN, KERNEL_IN + keep)
      } else if (nul >= pos + keep) {
        this.#sink.run(buf, pos, pos + keep)
      } else {
        // The piece without its NULs (ClamAV drops them while reading): the states never see one.
        if (this.#scratch.length < keep) this.#scratch = new Uint8Array(READ)
        const read = this.#scratch
        for (let n = 0, j = pos; n < keep; j++) if (buf[j] !== 0) read[n++] = buf[j]!
        this.#sink.run(read, 0, keep)
      }
      pos = next
    }
    return pos
  }
}
