/// The body store for applications that keep bodies in memory: each body is one Buffer. Enough for
/// small objects and for tests; an application with large bodies supplies a store that spools.
import type { BodyStore, BodyWriter } from './handler.js'
import { IcapError } from './errors.js'

class MemoryWriter implements BodyWriter<Buffer> {
  readonly #chunks: Buffer[] = []
  #done = false

  write (chunk: Buffer): undefined {
    if (this.#done) throw new IcapError('ICAP_HANDLER_FAILED', 'body written after it ended')
    // A copy: the server's views point into socket reads that the caller may keep or reuse.
    this.#chunks.push(Buffer.from(chunk))
    return undefined
  }

  async finish (): Promise<Buffer> {
    this.#done = true
    return Buffer.concat(this.#chunks)
  }

  async discard (): Promise<void> {
    this.#done = true
    this.#chunks.length = 0
  }
}

export class MemoryBodyStore implements BodyStore<Buffer> {
  open (): BodyWriter<Buffer> { return new MemoryWriter() }
  read (body: Buffer): Uint8Array { return body }
  async release (): Promise<void> {}
}
