/// Chunked transfer coding as ICAP uses it (RFC 3507 §4.4.1, RFC 9112 §7.1): an incremental decoder
/// over Buffers that recognises the `ieof` extension ending a preview, tolerates other extensions,
/// and rejects sizes that are empty, signed, non-hex or absurd. Squid's TeChunkedParser does the
/// same job; the decoder never throws and never looks at body bytes one by one (data is sliced).

const lf = 0x0a
const cr = 0x0d

/// Where decoded pieces go. `data` gets views on the caller's buffer (no copy).
export interface ChunkSink {
  data (bytes: Buffer): void
  /// The zero-size chunk and its trailer are complete. `ieof`: RFC 3507 §4.5 end of a preview that
  /// held the whole body.
  last (ieof: boolean): void
  fail (reason: string): void
}

export interface ChunkLimits {
  /// Longest size line (size plus extensions) accepted.
  readonly maxLineBytes: number
  /// Largest single chunk accepted; bigger declared sizes are rejected at once.
  readonly maxChunkBytes: number
  /// Most trailer fields after the last chunk.
  readonly maxTrailers: number
}

const enum State { Size, Data, DataCr, DataLf, Trailer, Done, Failed }

export class ChunkedDecoder {
  readonly #limits: ChunkLimits
  #state = State.Size
  #line = ''
  #remaining = 0
  #ieof = false
  #trailers = 0

  constructor (limits: ChunkLimits) { this.#limits = limits }

  /// Ready for a new chunked stream (the next body, or the rest after 100 Continue).
  reset (): void {
    this.#state = State.Size
    this.#line = ''
    this.#remaining = 0
    this.#ieof = false
    this.#trailers = 0
  }

  get done (): boolean { return this.#state === State.Done }

  /// Consumes bytes from `pos`; returns the position after what it used. It stops right after the
  /// last chunk's trailer (the rest belongs to whatever follows) or at a failure.
  decode (buf: Buffer, pos: number, out: ChunkSink): number {
    const end = buf.length
    while (pos < end) {
      switch (this.#state) {
        case State.Data: {
          const take = Math.min(this.#remaining, end - pos)
          out.data(buf.subarray(pos, pos + take))
          pos += take
          this.#remaining -= take
          if (this.#remaining === 0) this.#state = State.DataCr
          break
        }
        case State.DataCr: {
          const byte = buf[pos]
          if (byte === cr) { pos++; this.#state = State.DataLf } else if (byte === lf) { pos++; this.#state = State.Size } else return this.#fail(out, 'chunk data is longer than its size', pos)
          break
        }
        case State.DataLf:
          if (buf[pos] !== lf) return this.#fail(out, 'chunk data is longer than its size', pos)
          pos++
          this.#state = State.Size
          break
        case State.Size:
        case State.Trailer: {
          const nl = buf.indexOf(lf, pos)
          // The common lines whole in this read, read from the bytes with no string made: a bare
          // hex size, and the empty line that ends the trailer. Anything else takes the general path.
          if (nl !== -1 && this.#line === '') {
            if (this.#state === State.Size) {
              const next = this.#plainSize(buf, pos, nl)
              if (next >= 0) { pos = next; break }
            } else if (isEmptyLine(buf, pos, nl)) {
              this.#state = State.Done
              out.last(this.#ieof)
              return nl + 1
            }
          }
          const stop = nl === -1 ? end : nl
          if (this.#line.length + (stop - pos) > this.#limits.maxLineBytes) {
            return this.#fail(out, this.#state === State.Size ? 'chunk size line too long' : 'chunk trailer line too long', pos)
          }
          this.#line += buf.toString('latin1', pos, stop)
          if (nl === -1) return end
          pos = nl + 1
          const line = this.#line.endsWith('\r') ? this.#line.slice(0, -1) : this.#line
          this.#line = ''
          const failure = this.#state === State.Size ? this.#sizeLine(line) : this.#trailerLine(line)
          if (failure !== undefined) return this.#fail(out, failure, pos)
          if ((this.#state as State) === State.Done) { out.last(this.#ieof); return pos }
          break
        }
        case State.Done:
        case State.Failed:
          return pos
      }
    }
    return pos
  }

  /// A size line of hex digits alone (CRLF or LF) from `pos` to the LF at `nl`: takes it and returns
  /// the position after it, or -1 to leave the line to the general path (extensions, errors).
  #plainSize (buf: Buffer, pos: number, nl: number): number {
    const end = nl > pos && buf[nl - 1] === cr ? nl - 1 : nl
    if (end === pos || end - pos > this.#limits.maxLineBytes) return -1
    let size = 0
    for (let i = pos; i < end; i++) {
      const c = buf[i] ?? 0
      const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1
      if (digit < 0) return -1
      size = size * 16 + digit
      if (size > this.#limits.maxChunkBytes) return -1
    }
    this.#ieof = false
    if (size === 0) {
      this.#state = State.Trailer
    } else {
      this.#remaining = size
      this.#state = State.Data
    }
    return nl + 1
  }

  #fail (out: ChunkSink, reason: string, pos: number): number {
    this.#state = State.Failed
    out.fail(reason)
    return pos
  }

  #sizeLine (line: string): string | undefined {
    let i = 0
    let size = 0
    for (; i < line.length; i++) {
      const c = line.charCodeAt(i)
      const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1
      if (digit < 0) break
      size = size * 16 + digit
      if (size > this.#limits.maxChunkBytes) return `chunk size ${line.slice(0, 20)} over the limit of ${this.#limits.maxChunkBytes} bytes`
    }
    if (i === 0) return `invalid chunk size '${line.slice(0, 20)}'`
    const rest = line.slice(i)
    const trimmed = rest.trimStart()
    if (trimmed !== '' && !trimmed.startsWith(';')) return `invalid chunk size '${line.slice(0, 20)}'`
    this.#ieof = false
    if (trimmed !== '') {
      // Extensions: `; name[=value]` repeated. Only ieof matters to a server; the rest is skipped.
      for (const part of trimmed.slice(1).split(';')) {
        const name = part.split('=', 1)[0]?.trim().toLowerCase() ?? ''
        if (name === '') return 'empty chunk extension'
        if (name === 'ieof') this.#ieof = true
      }
    }
    if (size === 0) {
      this.#state = State.Trailer
      return undefined
    }
    if (this.#ieof) return 'ieof on a chunk that is not the last'
    this.#remaining = size
    this.#state = State.Data
    return undefined
  }

  #trailerLine (line: string): string | undefined {
    if (line === '') {
      this.#state = State.Done
      return undefined
    }
    if (++this.#trailers > this.#limits.maxTrailers) return 'too many chunk trailer fields'
    if (line.indexOf(':') <= 0) return 'malformed chunk trailer field'
    return undefined
  }
}

/// Whether the bytes from `pos` to the LF at `nl` are an empty line (nothing, or a lone CR).
function isEmptyLine (buf: Buffer, pos: number, nl: number): boolean {
  return nl === pos || (nl === pos + 1 && buf[pos] === cr)
}

/// The size line that starts one chunk of `size` bytes.
export function chunkHeader (size: number): string {
  return size.toString(16) + '\r\n'
}

/// The last chunk with an empty trailer: the end of an encapsulated body.
export const lastChunk = '0\r\n\r\n'
