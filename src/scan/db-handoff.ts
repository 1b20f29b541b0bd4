/// How pool workers get their compiled DB. A pool built for a DB already in memory (a reload) passes
/// it in workerData; the first pool of a service starts its workers before the DB is loaded and hands
/// it over a BroadcastChannel once it is (DbOffer here, receiveDb in workers/scan.ts).
/// Why: a worker's start (a V8 isolate, Node's bootstrap, the engine's ~70 modules) took about as long
/// as this thread's DB load from the compiled cache and the Bloom bitmaps it builds; done one after
/// the other they were most of `scanwall scan`'s start-up (docs/engine.md). Both are shared memory (a
/// SharedArrayBuffer and a shared WebAssembly.Memory), which a BroadcastChannel passes by reference
/// as workerData does. A worker asks (`want`) when its modules are loaded; the offer answers every
/// ask once the DB is there, and sends it unasked at that moment to the workers that asked before,
/// so a worker that starts later (a replacement for one that crashed) gets it too.
import { BroadcastChannel } from 'node:worker_threads'
import { randomUUID } from 'node:crypto'
import type { CompiledDb } from '../engine/matcher/db.js'
import type { WasmMemory } from '../engine/matcher/kernel-memory.js'

/// What a worker builds its engine from.
export interface PoolDb { readonly db: CompiledDb, readonly kernelMemory?: WasmMemory | undefined }

/// A pool's workerData: the DB itself, or the channel it will come over.
export type PoolWorkerData = PoolDb | { readonly dbChannel: string }

const want = 'want'

export class DbOffer {
  readonly name = `scanwall-db-${randomUUID()}`
  readonly #channel = new BroadcastChannel(this.name)
  #db: PoolDb | undefined

  constructor () {
    this.#channel.onmessage = (event: unknown) => {
      if ((event as { data?: unknown }).data === want && this.#db !== undefined) this.#channel.postMessage(this.#db)
    }
    // Open for the pool's life (replacement workers ask too), never what keeps the process up.
    this.#channel.unref()
  }

  /// The DB, once offered.
  get current (): PoolDb | undefined { return this.#db }

  offer (db: PoolDb): void {
    this.#db = db
    this.#channel.postMessage(db)
  }

  /// Once the pool is gone: the DB is no longer held here.
  close (): void {
    this.#db = undefined
    this.#channel.close()
  }
}

/// In a worker: the DB from the offer on channel `name` (waits until it is offered).
export async function receiveDb (name: string): Promise<PoolDb> {
  const channel = new BroadcastChannel(name)
  try {
    return await new Promise<PoolDb>(resolve => {
      channel.onmessage = (event: unknown) => {
        const data = (event as { data?: unknown }).data
        if (data !== want && data !== undefined) resolve(data as PoolDb)
      }
      channel.postMessage(want)
    })
  } finally {
    channel.close()
  }
}
