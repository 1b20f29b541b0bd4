/// ByteSource: the fmap analogue. A layer's bytes in memory or in a file, read through one interface
/// so format handlers and the matcher never know which.
/// A FileSource reads with the synchronous fs calls. It is a pool worker's object (workers/scan.ts, and
/// the children sink.ts spools), whose one scan waits for the bytes either way and whose cancel flag
/// is shared memory, not a message; elsewhere only the content filter's walk meets one, for a child
/// past its 64 MiB spool limit that the same thread has just written with writeSync. The promise API
/// cost a FileHandle and three thread-pool round trips per read (open, read, close), and a tar member
/// or header is one read each: a spooled 12.6 MB tar of 24 members took ~64 ms of worker CPU per
/// scan with it, ~39 ms without (BENCHMARKS.md, formats-5).
import { closeSync, openSync, readSync } from 'node:fs'

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
    const fd = openSync(this.#path, 'r')
    try {
      let got = 0
      while (got < want) {
        const bytesRead = readSync(fd, out, got, want - got, offset + got)
        if (bytesRead === 0) break
        got += bytesRead
      }
      return out.subarray(0, got)
    } finally {
      closeSync(fd)
    }
  }

  async * chunks (chunkSize = 1 << 20, options: ChunkOptions = {}): AsyncIterable<Uint8Array> {
    const fd = openSync(this.#path, 'r')
    const size = Math.min(chunkSize, this.size)
    // A fresh buffer per chunk unless the consumer said it keeps none (see ChunkOptions).
    const reused = options.reuse === true ? takeSpare(size) : undefined
    try {
      for (let at = 0; at < this.size;) {
        const want = Math.min(chunkSize, this.size - at)
        const buf = reused === undefined ? new Uint8Array(want) : reused.subarray(0, want)
        const bytesRead = readSync(fd, buf, 0, buf.length, at)
        if (bytesRead === 0) break
        at += bytesRead
        yield buf.subarray(0, bytesRead)
      }
    } finally {
      if (reused !== undefined) giveSpare(reused)
      closeSync(fd)
    }
  }
}

/// Buffers of finished reuse-mode reads in this thread, lent to the next ones: a worker scans file
/// after file, and a new 1 MiB buffer per file would pay the page faults again. Each read takes its
/// own (concurrent scans never share one). One is kept: a worker runs one scan at a time, and the
/// walk reads a spooled child only after its parent's chunks are done, so one is all it reuses.
const spares: Uint8Array[] = []
const keptSpares = 1

function takeSpare (size: number): Uint8Array {
  const i = spares.findIndex(b => b.length >= size)
  return i < 0 ? new Uint8Array(size) : spares.splice(i, 1)[0] ?? new Uint8Array(size)
}

function giveSpare (buf: Uint8Array): void {
  if (buf.length < 64 * 1024) return
  if (spares.length < keptSpares) spares.push(buf)
  else if ((spares[0]?.length ?? 0) < buf.length) spares[0] = buf // keep the largest: it serves every size
}
