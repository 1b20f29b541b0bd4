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
  chunks (chunkSize?: number): AsyncIterable<Uint8Array>
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

  async * chunks (chunkSize = 1 << 20): AsyncIterable<Uint8Array> {
    const handle = await open(this.#path, 'r')
    try {
      for (let at = 0; at < this.size;) {
        // A fresh buffer per chunk: consumers (matchers, hashers) may keep a view on the previous one.
        const buf = new Uint8Array(Math.min(chunkSize, this.size - at))
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
