/// ChildSink: where an extractor puts the bytes of one decoded child. Every write is accounted with the
/// budget first (size, scan total, compression ratio); past limits.spoolAboveBytes the child moves from
/// memory to a temp file, so large children never sit in memory together. Writes are synchronous
/// because some decoders (7-Zip in wasm) hand bytes over from inside a synchronous call.
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { ScanBudget } from '../budget.js'
import { FileSource, MemorySource, type ByteSource } from '../source.js'
import type { Layer } from './registry.js'

export class ChildSink {
  readonly #budget: ScanBudget
  readonly #packed: number | undefined
  #parts: Uint8Array[] = []
  #size = 0
  #fd: number | undefined
  #dir: string | undefined
  /// False once the budget refused a write: the extractor should stop decoding.
  ok = true

  constructor (budget: ScanBudget, packed?: number) {
    this.#budget = budget
    this.#packed = packed
  }

  get size (): number { return this.#size }

  /// Accounts and keeps a chunk (copied when `copy`: decoders that reuse their output buffer).
  write (chunk: Uint8Array, copy = false): boolean {
    if (!this.ok) return false
    if (chunk.length === 0) return true
    if (!this.#budget.consume(chunk.length, this.#size, this.#packed)) { this.ok = false; return false }
    if (this.#fd === undefined && this.#size + chunk.length > this.#budget.limits.spoolAboveBytes) this.#spool()
    if (this.#fd !== undefined) writeSync(this.#fd, chunk)
    else this.#parts.push(copy ? Uint8Array.from(chunk) : chunk)
    this.#size += chunk.length
    return true
  }

  #spool (): void {
    mkdirSync(this.#budget.limits.spoolDir, { recursive: true })
    this.#dir = mkdtempSync(join(this.#budget.limits.spoolDir, 'scanwall-child-'))
    this.#fd = openSync(join(this.#dir, 'child'), 'w')
    for (const part of this.#parts) writeSync(this.#fd, part)
    this.#parts = []
  }

  /// The child as a Layer (its temp file removed by release()), or undefined when nothing was written.
  layer (name: string): Layer | undefined {
    // Nothing written; or the scan is over (cancelled, scan-wide limit); or the child passed
    // MaxFileSize, and as in ClamAV a file over MaxFileSize is not scanned: nothing to yield.
    if (this.#size === 0 || !this.ok || !this.#budget.alive()) { this.discard(); return undefined }
    if (this.#fd === undefined) return { name, source: new MemorySource(concat(this.#parts, this.#size)) }
    closeSync(this.#fd)
    this.#fd = undefined
    const dir = this.#dir as string
    const source: ByteSource = new FileSource(join(dir, 'child'), this.#size)
    return { name, source, release: () => { rmSync(dir, { recursive: true, force: true }) } }
  }

  discard (): void {
    if (this.#fd !== undefined) closeSync(this.#fd)
    if (this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true })
    this.#fd = undefined
    this.#dir = undefined
    this.#parts = []
  }
}

function concat (parts: readonly Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0]
  return Buffer.concat(parts, size)
}
