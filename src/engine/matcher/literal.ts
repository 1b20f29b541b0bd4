/// First body matcher: literal patterns found with Buffer.indexOf, streaming across chunks by keeping
/// the last (longest pattern − 1) bytes. Adequate for a handful of signatures; the compiled
/// multi-pattern automaton in shared memory replaces it (issue #3).
import type { BodySignature } from '../signatures/types.js'
import type { FileType } from '../filetype.js'

interface Pattern { readonly name: string, readonly bytes: Buffer, readonly offset: '*' | number }

export class LiteralMatcher {
  readonly #patterns: readonly Pattern[]
  readonly #keep: number
  constructor (signatures: readonly BodySignature[]) {
    this.#patterns = signatures.map(s => ({ name: s.name, bytes: Buffer.from(s.hex, 'hex'), offset: s.offset }))
    this.#keep = Math.max(0, ...this.#patterns.map(p => p.bytes.length - 1))
  }

  /// Starts matching one layer of the given type (this first matcher ignores target types).
  begin (type: FileType): MatchStream {
    void type
    return new MatchStream(this.#patterns, this.#keep)
  }
}

export class MatchStream {
  readonly #patterns: readonly Pattern[]
  readonly #keep: number
  #tail = Buffer.alloc(0)
  #consumed = 0 // stream offset of the first byte of #tail
  readonly #found = new Set<string>()

  constructor (patterns: readonly Pattern[], keep: number) {
    this.#patterns = patterns
    this.#keep = keep
  }

  push (chunk: Uint8Array): void {
    if (this.#patterns.length === 0 || chunk.length === 0) return
    const window = this.#tail.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length) : Buffer.concat([this.#tail, chunk])
    for (const p of this.#patterns) {
      if (this.#found.has(p.name)) continue
      if (p.offset === '*') {
        if (window.indexOf(p.bytes) !== -1) this.#found.add(p.name)
      } else {
        const at = p.offset - this.#consumed
        if (at >= 0 && at + p.bytes.length <= window.length && window.subarray(at, at + p.bytes.length).equals(p.bytes)) this.#found.add(p.name)
      }
    }
    const keep = Math.min(this.#keep, window.length)
    this.#consumed += window.length - keep
    this.#tail = Buffer.from(window.subarray(window.length - keep)) // own copy: the chunk may be reused
  }

  end (): string[] { return [...this.#found] }
}
