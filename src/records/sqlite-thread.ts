/// The node's SQLite decision database on its own thread (workers/records.ts): the same store as
/// sqlite-store.ts behind the RecordStore interface, its calls posted to a worker and answered by
/// id. better-sqlite3 is synchronous, and a batch of detections on the I/O thread cost ~12 µs of it
/// per event (measured in-process: 5,000 events ~62 ms), about a tenth of a small ICAP request's
/// CPU when every object is an event (issue #12); posting the batch costs a structured clone.
/// A write resolves once the worker's transaction committed, so the writer's `records committed`
/// line still follows the commit. A worker that dies fails the calls in flight; the next call
/// starts a new one (the writer retries its batch).
import { Worker } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import type { DecisionEvent } from './event.js'
import type { Dimension, HourlyRow } from './hourly.js'
import type { RecordStore } from './store.js'
import type { TotalRow } from './sql.js'

const workerFile = fileURLToPath(new URL('../../workers/records.js', import.meta.url))

type Call =
  | { readonly op: 'write', readonly events: readonly DecisionEvent[], readonly hourly: readonly HourlyRow[] }
  | { readonly op: 'prune', readonly eventsBeforeMs: number, readonly hourlyBeforeSec: number }
  | { readonly op: 'events', readonly sinceMs: number, readonly limit: number }
  | { readonly op: 'totals', readonly dimension: Dimension, readonly sinceSec: number, readonly limit: number }
  | { readonly op: 'close' }

/// A call as posted (id 0 is the worker's answer to opening the store).
export type StoreCall = Call & { readonly id: number }
export type StoreReply = { readonly id: number, readonly ok: true, readonly value: unknown } | { readonly id: number, readonly ok: false, readonly message: string }

interface Pending { readonly resolve: (value: unknown) => void, readonly reject: (err: Error) => void }

export class SqliteThreadStore implements RecordStore {
  readonly name: string
  readonly #path: string
  #worker: Worker | undefined
  #opened: Promise<void> | undefined
  readonly #pending = new Map<number, Pending>()
  #nextId = 1

  private constructor (path: string) {
    this.name = `sqlite:${path}`
    this.#path = path
  }

  /// Opens (creating and migrating) the database on a new thread; throws what opening it threw.
  static async open (path: string): Promise<SqliteThreadStore> {
    const store = new SqliteThreadStore(path)
    await store.#start()
    return store
  }

  async #start (): Promise<void> {
    this.#opened ??= new Promise<void>((resolve, reject) => {
      const worker = new Worker(workerFile, { workerData: { path: this.#path } })
      this.#worker = worker
      worker.on('message', (reply: StoreReply) => {
        if (reply.id === 0) {
          if (reply.ok) {
            resolve()
            return
          }
          this.#worker = undefined
          this.#opened = undefined
          void worker.terminate()
          reject(new Error(reply.message))
          return
        }
        const pending = this.#pending.get(reply.id)
        this.#pending.delete(reply.id)
        if (reply.ok) pending?.resolve(reply.value)
        else pending?.reject(new Error(reply.message))
      })
      worker.on('error', err => { reject(this.#lost(worker, `failed: ${err.message}`)) })
      worker.on('exit', code => { reject(this.#lost(worker, `exited with ${code}`)) })
    })
    await this.#opened
  }

  /// The thread is gone: its calls in flight fail, the next call starts another.
  #lost (worker: Worker, why: string): Error {
    const err = new Error(`decision database thread ${why}`)
    if (this.#worker !== worker) return err
    this.#worker = undefined
    this.#opened = undefined
    for (const pending of this.#pending.values()) pending.reject(err)
    this.#pending.clear()
    return err
  }

  /// Ends the thread at once, as a crash would (tests).
  async kill (): Promise<void> {
    const worker = this.#worker
    if (worker === undefined) return
    await worker.terminate()
    this.#lost(worker, 'was killed')
  }

  async #call (call: Call): Promise<unknown> {
    await this.#start()
    const worker = this.#worker
    if (worker === undefined) throw new Error('decision database thread is gone')
    const id = this.#nextId++
    return await new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      worker.postMessage({ ...call, id })
    })
  }

  async write (events: readonly DecisionEvent[], hourly: readonly HourlyRow[]): Promise<void> {
    await this.#call({ op: 'write', events, hourly })
  }

  async prune (eventsBeforeMs: number, hourlyBeforeSec: number): Promise<{ events: number, hourly: number }> {
    return await this.#call({ op: 'prune', eventsBeforeMs, hourlyBeforeSec }) as { events: number, hourly: number }
  }

  async events (sinceMs: number, limit: number): Promise<DecisionEvent[]> {
    return await this.#call({ op: 'events', sinceMs, limit }) as DecisionEvent[]
  }

  async totals (dimension: Dimension, sinceSec: number, limit: number): Promise<TotalRow[]> {
    return await this.#call({ op: 'totals', dimension, sinceSec, limit }) as TotalRow[]
  }

  /// Closes the database on its thread, then ends the thread.
  async close (): Promise<void> {
    const worker = this.#worker
    if (worker === undefined) return
    try {
      await this.#call({ op: 'close' })
    } finally {
      this.#worker = undefined
      this.#opened = undefined
      await worker.terminate()
    }
  }
}
