/// The leaf lane: one worker thread (workers/leaf.ts) that matches small leaf objects for the I/O
/// thread, over a bare MessagePort. Why: a 64 KiB leaf matched inline costs the I/O thread ~250 µs
/// (the anchor kernel, the embedded-archive probe, type detection) of ~450-700 µs per ICAP
/// transaction, so at 64 KiB that one thread binds the node while the second CPU idles. Handing a
/// leaf to this thread costs the I/O thread one postMessage and one message event; the Piscina pool
/// costs far more per task (its queue, task and result clones, the cancel flag and deadline). The
/// body is moved to the lane and back, never copied. ScanService uses the lane only while it has
/// fewer than `depth` objects in hand, else matches inline: the lane never queues work the I/O
/// thread could do sooner itself. A lane whose thread died is never used again (inline from then on).
import { Worker } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import type { CompiledDb } from '../engine/matcher/db.js'
import type { WasmMemory } from '../engine/matcher/kernel-memory.js'
import type { ScanLimits } from '../engine/budget.js'
import type { Verdict } from '../engine/verdict.js'
import { BadResult, parseVerdict } from './result.js'

export interface LeafWorkerData { readonly limits: ScanLimits }
export interface LeafRequest { readonly id: number, readonly bytes: ArrayBuffer, readonly size: number }
/// `verdict` undefined: not a leaf, the pool walks it. `error`: scanLeaf threw.
export type LeafReply =
  | { readonly id: number, readonly bytes: ArrayBuffer, readonly verdict: Verdict | undefined }
  | { readonly id: number, readonly bytes: ArrayBuffer, readonly error: string }

/// The lane's answer: the body back, and the verdict (undefined: walk it in the pool; `fault` says
/// why when the matcher threw, and the pool gets a try, as after an inline scan that threw).
export interface LeafAnswer { readonly bytes: ArrayBuffer, readonly verdict: Verdict | undefined, readonly fault?: string }

interface Waiter { readonly resolve: (answer: LeafAnswer) => void, readonly reject: (err: Error) => void }

const workerFile = fileURLToPath(new URL('../../workers/leaf.js', import.meta.url))

export class LeafLane {
  readonly #worker: Worker
  readonly #waiting = new Map<number, Waiter>()
  #next = 0
  #ready = false
  #dead = false
  #closing = false

  constructor (db: CompiledDb, kernelMemory: WasmMemory | undefined, limits: ScanLimits, maxOldGenMb: number) {
    const data: LeafWorkerData & { db: CompiledDb, kernelMemory?: WasmMemory } = kernelMemory === undefined ? { db, limits } : { db, kernelMemory, limits }
    this.#worker = new Worker(workerFile, { workerData: data, resourceLimits: { maxOldGenerationSizeMb: maxOldGenMb } })
    this.#worker.on('message', (message: unknown) => { this.#receive(message) })
    this.#worker.on('error', (err: Error) => { this.#fail(`leaf lane failed: ${err.message}`) })
    this.#worker.on('exit', (code: number) => { this.#fail(`leaf lane exited (code ${code})`) })
    // Never what keeps a node running: ScanService.close() ends it.
    this.#worker.unref()
  }

  /// The lane's thread id (its kernel slot must survive the pool's slot clean-up).
  get threadId (): number { return this.#worker.threadId }
  /// Objects handed over and not yet answered.
  get pending (): number { return this.#waiting.size }
  /// Whether the lane takes work: its engine is built, its thread alive, it is not closing.
  get usable (): boolean { return this.#ready && !this.#dead && !this.#closing }

  /// Moves `bytes` to the lane (the caller's ArrayBuffer is detached) and resolves with it back and
  /// the verdict. Rejects only when the lane's thread dies first; the body is then gone with it.
  async scan (bytes: ArrayBuffer, size: number): Promise<LeafAnswer> {
    const id = this.#next++
    return await new Promise<LeafAnswer>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject })
      const request: LeafRequest = { id, bytes, size }
      this.#worker.postMessage(request, [bytes])
    })
  }

  #receive (message: unknown): void {
    if (typeof message !== 'object' || message === null) return
    const reply = message as { ready?: unknown, id?: unknown, bytes?: unknown, verdict?: unknown, error?: unknown }
    if (reply.ready === true) { this.#ready = true; return }
    if (typeof reply.id !== 'number') return
    const waiter = this.#waiting.get(reply.id)
    if (waiter === undefined) return
    this.#waiting.delete(reply.id)
    if (this.#closing && this.#waiting.size === 0) void this.#worker.terminate()
    if (!(reply.bytes instanceof ArrayBuffer)) { waiter.reject(new Error('leaf lane answered without the body')); return }
    if (typeof reply.error === 'string') { waiter.resolve({ bytes: reply.bytes, verdict: undefined, fault: reply.error }); return }
    try {
      waiter.resolve({ bytes: reply.bytes, verdict: reply.verdict === undefined ? undefined : parseVerdict(reply.verdict) })
    } catch (err) {
      waiter.reject(err instanceof BadResult ? new Error(`malformed leaf lane verdict: ${err.message}`) : err as Error)
    }
  }

  #fail (why: string): void {
    this.#dead = true
    const waiting = [...this.#waiting.values()]
    this.#waiting.clear()
    for (const waiter of waiting) waiter.reject(new Error(why))
  }

  /// Ends the thread once the objects in hand are answered (a signature reload's old lane).
  closeWhenIdle (): void {
    this.#closing = true
    if (this.#waiting.size === 0) void this.#worker.terminate()
  }

  async close (): Promise<void> {
    this.#closing = true
    await this.#worker.terminate()
  }
}
