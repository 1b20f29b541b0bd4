/// A window on a parent ByteSource: uncompressed archive members (tar, cpio, ar, iso, OLE2 streams)
/// become children without copying their bytes, however large they are.
import type { ByteSource } from '../source.js'

export class SliceSource implements ByteSource {
  readonly #parent: ByteSource
  readonly #start: number
  readonly size: number

  constructor (parent: ByteSource, start: number, size: number) {
    this.#parent = parent
    this.#start = Math.min(start, parent.size)
    this.size = Math.max(0, Math.min(size, parent.size - this.#start))
  }

  async head (n: number): Promise<Uint8Array> { return await this.read(0, n) }

  async read (offset: number, length: number): Promise<Uint8Array> {
    const want = Math.max(0, Math.min(length, this.size - offset))
    return await this.#parent.read(this.#start + offset, want)
  }

  async * chunks (chunkSize = 1 << 20): AsyncIterable<Uint8Array> {
    for (let at = 0; at < this.size; at += chunkSize) {
      const part = await this.read(at, chunkSize)
      if (part.length === 0) return
      yield part
    }
  }
}
