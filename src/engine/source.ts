/// ByteSource: the fmap analogue. A layer's bytes in memory or in a file, read through one interface
/// so format handlers and the matcher never know which.
import { open } from 'node:fs/promises'

export interface ByteSource {
  readonly size: number
  /// Up to n bytes from the start (fewer if the source is shorter).
  head (n: number): Promise<Uint8Array>
  /// Up to length bytes from offset (fewer at the end).
  read (offset: number, length: number): Promise<Uint8Array>
  /// The whole content in order, in chunks of about chunkSize bytes.
  chunks (chunkSize?: number, options?: ChunkOptions): AsyncIterable<Uint8Array>
}

export interface ChunkOptions {
  /// The consumer is done with each chunk before it asks for the next and keeps no view on it (the
  /// walk's matcher copies the few bytes it carries across a boundary), so a file source may read
  /// every chunk into one buffer. Fresh memory per chunk costs page faults on every chunk; on this
  /// machine kind that halved the throughput of a newly started worker. Consumers that hold chunks
  /// (a Readable feeding a decoder buffers them) must not ask for it.
  readonly reuse?: boolean
}

export class MemorySource implements ByteSource {
  readonly #bytes: Uint8Array
  constructor (bytes: Uint8Array) { this.#bytes = bytes }
  get size (): number { return this.#bytes.length }
  get bytes (): Uint8Array { return this.#bytes }
  async head (n: number): Promise<Uint8Array> { return this.#bytes.subarray(0, n) }
  async read (offset: number, length: number): Promise<Uint8Array> { return this.#bytes.subarray(offset, offset + length) }
  async * chunks (chunkSize = 1 << 20): AsyncIterable<Uint8Array> {
    for (let at = 0; at < this.#bytes.length; at += chunkSize) yield this.#bytes.subarray(at, at + chunkSize)
  }
}

export class FileSource implements ByteSource {
  readonly #path: string
  readonly size: number
  constructor (path: string, size: number) {
    this.#path = path
    this.size = size
  }

  async head (n: number): Promise<Uint8Array> { return await this.read(0, n) }

  async read (offset: number, length: number): Promise<Uint8Array> {
    const want = Math.max(0, Math.min(length, this.size - offset))
    const out = new Uint8Array(want)
    if (want === 0) return out
    const handle = await open(this.#path, 'r')
    try {
      let got = 0
      while (got < want) {
        const { bytesRead } = await handle.read(out, got, want - got, offset + got)
        if (bytesRead === 0) break
        got += bytesRead
      }
      return out.subarray(0, got)
    } finally {
      await handle.close()
    }
  }

  async * chunks (chunkSize = 1 << 20, options: ChunkOptions = {}): AsyncIterable<Uint8Array> {
    const handle = await open(this.#path, 'r')
    try {
      let reused: Uint8Array | undefined
      for (let at = 0; at < this.size;) {
        const want = Math.min(chunkSize, this.size - at)
        // A fresh buffer per chunk unless the consumer said it keeps none (see ChunkOptions).
        const buf = options.reuse === true ? (reused ??= new Uint8Array(want)).subarray(0, want) : new Uint8Array(want)
        const { bytesRead } = await handle.read(buf, 0, buf.length, at)
        if (bytesRead === 0) break
        at += bytesRead
        yield buf.subarray(0, bytesRead)
      }
    } finally {
      await handle.close()
    }
  }
}
