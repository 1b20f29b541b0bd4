/// BodySink collects one transaction's body: in its own ArrayBuffer while small, in a spool file
/// once it passes the memory limit (c-icap's av_body: memory or file behind one type).
/// The memory form is transferred to the worker without a copy (Piscina.move), so the sink owns its
/// buffer and never hands over a socket Buffer's pooled ArrayBuffer (those are untransferable).
import { open, unlink, mkdir, readFile, type FileHandle } from 'node:fs/promises'
import { createReadStream } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { ScanwallError, errorMessage } from '../errors.js'
import { SpoolHash, type HashAdmission } from './spool-hash.js'

export type BodySource =
  | { readonly kind: 'memory', readonly bytes: ArrayBuffer, readonly size: number }
  /// `sha256`: the content's SHA-256 (base64) when the sink hashed it while spooling (spool-hash.ts);
  /// set only by BodySink, since the verdict cache trusts it as the content's key.
  | { readonly kind: 'file', readonly path: string, readonly size: number, readonly sha256?: string }

/// Bytes of memory-held bodies across all open sinks. A sink reserves every buffer it allocates
/// and spools instead when the reservation is refused, so many open transactions cannot each hold
/// memoryLimit bytes: the total stays under the budget by construction.
export class MemoryBudget {
  readonly #limit: number
  #used = 0
  constructor (limit: number) { this.#limit = limit }
  get used (): number { return this.#used }
  reserve (bytes: number): boolean {
    if (this.#used + bytes > this.#limit) return false
    this.#used += bytes
    return true
  }

  release (bytes: number): void { this.#used -= bytes }
}

export interface SinkOptions {
  readonly memoryLimit: number
  /// Shared across sinks; without it a sink is bounded only by memoryLimit.
  readonly budget?: MemoryBudget | undefined
  readonly spoolDir: string
  /// Known size (Content-Length), if any: preallocates, or spools at once when over the limit.
  readonly expectedSize?: number | undefined
  /// Hash a spooled body while it arrives when this admits its head (the verdict cache's doorkeeper).
  readonly hashSpooled?: HashAdmission | undefined
  /// The writer's chunks are valid only during write() (the ICAP server's reused read buffer,
  /// icap-server-lite's BodyWriter): bytes queued for the spool file are copied.
  readonly borrowedChunks?: boolean | undefined
}

const initialCapacity = 16 * 1024

/// Sink buffers of the small size classes kept for the next sinks: a 64 KiB ICAP body matched inline
/// left its fresh 64 KiB buffer to the GC, and that external memory drove V8's scavenges (~80 µs of
/// the I/O thread per 64 KiB transaction in --cpu-prof, BENCHMARKS.md "icap64-3"). Only buffers of a
/// class size (powers of two, 4-64 KiB) come back, at most `shelfDepth` of each (~1 MiB in all); a
/// body is put back only by its consumer (ScanService, after matching it inline), and detached on
/// the way so a caller's stale view reads nothing rather than the next body.
const shelfMin = 4 << 10
const shelfMax = 64 << 10
const shelfDepth = 8
const shelf = new Map<number, ArrayBuffer[]>()

/// The class size for `bytes`, or undefined past the largest class.
function shelfClass (bytes: number): number | undefined {
  if (bytes > shelfMax) return undefined
  let size = shelfMin
  while (size < bytes) size *= 2
  return size
}

/// The capacity a sink allocates for `bytes`: its class size up to 64 KiB, else `bytes`.
const sinkCapacity = (bytes: number): number => shelfClass(bytes) ?? bytes

/// A buffer of `capacity` (a sinkCapacity), from the shelf when it holds one.
function sinkBuffer (capacity: number): Uint8Array {
  const kept = shelf.get(capacity)?.pop()
  return kept !== undefined ? new Uint8Array(kept) : unzeroed(capacity)
}

/// The shelf a buffer of `size` bytes would go to, when it is a class size and that shelf has room.
function shelfWithRoom (size: number): ArrayBuffer[] | undefined {
  if (size < shelfMin || shelfClass(size) !== size) return undefined
  let kept = shelf.get(size)
  if (kept === undefined) shelf.set(size, kept = [])
  return kept.length < shelfDepth ? kept : undefined
}

function shelve (buffer: ArrayBuffer): void {
  shelfWithRoom(buffer.byteLength)?.push(buffer)
}

/// Gives a memory body's buffer back for the next sinks once its consumer is done with it (the body
/// must not be read afterwards: its ArrayBuffer is detached here, as a transfer to a worker would).
export function recycleBody (source: BodySource): void {
  if (source.kind !== 'memory') return
  // Checked before the detach, which is the cost: a buffer no shelf takes is left to the GC as it is.
  shelfWithRoom(source.bytes.byteLength)?.push(structuredClone(source.bytes, { transfer: [source.bytes] }))
}

/// A fresh ArrayBuffer of `bytes`, not zeroed: every byte a sink hands on is one it wrote (finish()
/// trims to the size written), and zeroing what is overwritten at once cost the I/O thread a memset
/// per buffer (4 % of all CPU samples of a node under 1 MiB INSTREAM load, perf). Its own buffer,
/// never Node's shared pool (allocUnsafeSlow), so it can be transferred to a worker.
function unzeroed (bytes: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(bytes)
  return new Uint8Array(b.buffer, b.byteOffset, bytes)
}

export class BodySink {
  readonly #options: SinkOptions
  #buffer: Uint8Array
  #size = 0
  #file: { handle: FileHandle, path: string } | undefined
  #pendingWrite: Promise<void> = Promise.resolve()
  #writeError: unknown
  #closed = false
  /// Spooled bytes being hashed as they go to the file (absent: no cache, or not spooled).
  #hash: SpoolHash | undefined

  /// Bytes of this sink's buffer reserved from the shared budget.
  #reserved = 0

  constructor (options: SinkOptions) {
    this.#options = options
    const expected = options.expectedSize
    if (expected !== undefined && expected > options.memoryLimit) {
      this.#buffer = new Uint8Array(0)
      this.#spoolSoon()
      return
    }
    const start = sinkCapacity(Math.min(expected !== undefined ? Math.max(expected, 1) : initialCapacity, options.memoryLimit))
    this.#buffer = new Uint8Array(0)
    if (this.#reserve(start)) this.#buffer = sinkBuffer(start)
    else this.#spoolSoon()
  }

  #reserve (bytes: number): boolean {
    const budget = this.#options.budget
    if (budget === undefined) return true
    if (!budget.reserve(bytes)) return false
    this.#reserved += bytes
    return true
  }

  #releaseAll (): void {
    this.#options.budget?.release(this.#reserved)
    this.#reserved = 0
  }

  get size (): number { return this.#size }
  get spooled (): boolean { return this.#file !== undefined || this.#spoolStarted }

  #spoolStarted = false

  /// Appends bytes. Returns a promise only when the bytes went to disk, so callers can apply
  /// back-pressure (pause the socket) while the file write is pending. Until that promise settles
  /// the sink holds `chunk` itself (a copy with borrowedChunks): the caller must not modify it afterwards.
  write (chunk: Uint8Array): Promise<void> | undefined {
    if (this.#closed) throw new ScanwallError('INTERNAL', 'write after close')
    if (chunk.length === 0) return undefined
    if (!this.#spoolStarted && this.#size + chunk.length <= this.#options.memoryLimit && this.#ensureCapacity(this.#size + chunk.length)) {
      this.#buffer.set(chunk, this.#size)
      this.#size += chunk.length
      return undefined
    }
    if (!this.#spoolStarted) this.#spoolSoon()
    // Kept until the disk has it (see write()'s contract). No copy for a caller whose reads are fresh
    // buffers (clamd, milter): there a copy doubled the bytes in flight per spooled body and the GC's
    // garbage. The ICAP server reads into one reused buffer instead, so its chunks are copied here:
    // the copy takes the place of the fresh buffer that read would have had.
    const kept = this.#options.borrowedChunks === true ? new Uint8Array(chunk) : chunk
    this.#size += kept.length
    this.#hash?.update(kept)
    this.#pendingWrite = this.#pendingWrite.then(async () => {
      if (this.#writeError !== undefined || this.#file === undefined) return
      await this.#file.handle.write(kept)
    }).catch((err: unknown) => { this.#writeError ??= err })
    return this.#pendingWrite
  }

  /// Grows the buffer to hold `needed` bytes; false when the budget refuses (the caller spools).
  #ensureCapacity (needed: number): boolean {
    if (needed <= this.#buffer.length) return true
    let capacity = Math.max(this.#buffer.length * 2, 1)
    while (capacity < needed) capacity *= 2
    capacity = sinkCapacity(Math.min(capacity, this.#options.memoryLimit))
    if (!this.#reserve(capacity)) return false
    const grown = sinkBuffer(capacity)
    grown.set(this.#buffer.subarray(0, this.#size))
    shelve(this.#buffer.buffer as ArrayBuffer)
    this.#options.budget?.release(this.#buffer.length)
    this.#reserved -= this.#buffer.length
    this.#buffer = grown
    return true
  }

  #spoolSoon (): void {
    this.#spoolStarted = true
    const head = this.#buffer.subarray(0, this.#size)
    const admit = this.#options.hashSpooled
    if (admit !== undefined) {
      this.#hash = new SpoolHash(admit, this.#options.expectedSize)
      this.#hash.update(head)
    }
    this.#pendingWrite = this.#pendingWrite.then(async () => {
      await mkdir(this.#options.spoolDir, { recursive: true, mode: 0o700 })
      const path = join(this.#options.spoolDir, `body-${process.pid}-${randomBytes(8).toString('hex')}`)
      const handle = await open(path, 'wx', 0o600)
      this.#file = { handle, path }
      if (head.length > 0) await handle.write(head)
    }).catch((err: unknown) => { this.#writeError ??= err }).finally(() => { this.#releaseAll() })
    this.#buffer = new Uint8Array(0)
  }

  /// Ends the body and returns it as a source the worker can read. The sink is done after this.
  async finish (): Promise<BodySource> {
    this.#closed = true
    await this.#pendingWrite
    if (this.#writeError !== undefined) {
      await this.discard()
      throw new ScanwallError('SCAN_SPOOL_FAILED', errorMessage(this.#writeError))
    }
    if (this.#file !== undefined) {
      await this.#file.handle.close()
      const sha256 = this.#hash?.digest()
      return sha256 === undefined ? { kind: 'file', path: this.#file.path, size: this.#size } : { kind: 'file', path: this.#file.path, size: this.#size, sha256 }
    }
    // Trim to size without a copy when the buffer is exact or of a shelf class (readers take `size`
    // bytes of it); otherwise one copy into an exact buffer so a large transferred ArrayBuffer is no
    // larger than the body.
    const exact = this.#buffer.byteLength === this.#size || this.#buffer.byteLength <= shelfMax ? this.#buffer.buffer as ArrayBuffer : trimmed(this.#buffer, this.#size)
    this.#buffer = new Uint8Array(0)
    // Handed to the scan: from here the pool's bounded queue bounds it, not this budget.
    this.#releaseAll()
    return { kind: 'memory', bytes: exact, size: this.#size }
  }

  /// Drops whatever was collected (client aborted, or after the transaction).
  async discard (): Promise<void> {
    this.#closed = true
    await this.#pendingWrite
    shelve(this.#buffer.buffer as ArrayBuffer) // never handed out: the next sink may have it
    this.#buffer = new Uint8Array(0)
    this.#releaseAll()
    const file = this.#file
    this.#file = undefined
    if (file !== undefined) {
      await file.handle.close().catch(() => {})
      await unlink(file.path).catch(() => {})
    }
  }
}

/// The first `size` bytes of `buffer` in an ArrayBuffer of their own.
function trimmed (buffer: Uint8Array, size: number): ArrayBuffer {
  const exact = unzeroed(size)
  exact.set(buffer.subarray(0, size))
  return exact.buffer as ArrayBuffer
}

/// Removes a finished source's spool file, if it has one.
export async function releaseSource (source: BodySource): Promise<void> {
  if (source.kind === 'file') await unlink(source.path).catch(() => {})
}

/// A source's bytes in memory: a view of a memory body, or the spool file read (callers cap the size).
export async function sourceBytes (source: BodySource): Promise<Uint8Array> {
  return source.kind === 'memory' ? new Uint8Array(source.bytes, 0, source.size) : await readFile(source.path)
}

/// Streams a source's bytes (for echoing the original body back to the ICAP client).
export function readSource (source: BodySource): Readable | Uint8Array {
  if (source.kind === 'memory') return new Uint8Array(source.bytes, 0, source.size)
  return createReadStream(source.path, { highWaterMark: 256 * 1024 })
}
