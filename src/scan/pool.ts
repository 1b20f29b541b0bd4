/// The Piscina pool: construction only (bounded queue, per-worker heap limit, the compiled DB as
/// workerData, or the channel it comes over when the workers start before it is loaded: db-handoff.ts).
/// A signature reload builds a new pool; the old one finishes its in-flight scans.
import { Piscina } from 'piscina'
import { fileURLToPath } from 'node:url'
import { threadId } from 'node:worker_threads'
import { releaseKernelSlots } from '../engine/matcher/kernel-memory.js'
import { DbOffer, type PoolDb, type PoolWorkerData } from './db-handoff.js'

export interface PoolOptions {
  readonly workers: number
  readonly maxQueue: number
  readonly workerMaxOldGenMb: number
}

const workerFile = fileURLToPath(new URL('../../workers/scan.js', import.meta.url))

/// A worker allocates little per scan (chunks are read into reused buffers, bodies arrive moved), so
/// V8's default young generation, which grows to 4 MiB of semi-spaces in every worker, mostly holds
/// garbage: 3 MiB (1 MiB semi-spaces) cut about 1.3 MiB per worker with no change in scan speed.
const youngGenerationMb = 3

/// `db`: the DB and kernelMemoryFor(db) (made once per DB by the caller, whose thread may use it too),
/// or the offer they will come from; `otherThreads`: the ids of other threads that map the kernel
/// memory (the leaf lane), whose slots stay theirs.
export function createPool (options: PoolOptions, db: PoolDb | DbOffer, otherThreads: () => readonly number[] = () => []): Piscina {
  const workerData: PoolWorkerData = db instanceof DbOffer ? { dbChannel: db.name } : { db: db.db, kernelMemory: db.kernelMemory }
  const kernelMemory = (): PoolDb['kernelMemory'] => db instanceof DbOffer ? db.current?.kernelMemory : db.kernelMemory
  const pool = new Piscina({
    filename: workerFile,
    minThreads: options.workers,
    maxThreads: options.workers,
    maxQueue: options.maxQueue,
    idleTimeout: Number.MAX_SAFE_INTEGER, // keep warm workers: building the engine is the expensive part
    concurrentTasksPerWorker: 1,
    resourceLimits: { maxOldGenerationSizeMb: options.workerMaxOldGenMb, maxYoungGenerationSizeMb: youngGenerationMb },
    // Both are shared with every worker, not copied: the DB's SharedArrayBuffer, and the anchor
    // kernel's WebAssembly memory holding the DB's Bloom bitmaps (one copy instead of one per worker).
    workerData,
  })
  // A worker that crashed, was killed past its deadline or hit its heap limit gives its kernel slot
  // back, so its replacement finds a free one. Its thread id reads -1 once it is gone: keep the slots
  // of the live workers, of this thread (the leaf scanner) and of the other threads, and free the rest.
  pool.on('workerDestroy', () => {
    const memory = kernelMemory()
    if (memory !== undefined) releaseKernelSlots(memory, new Set([threadId, ...otherThreads(), ...pool.threads.map(t => t.threadId)]))
  })
  return pool
}

/// A pool whose workers start now and get their DB when it is offered (db-handoff.ts). `otherThreads`:
/// where its owner says, once it knows, which other threads map the kernel memory (createPool's).
export interface StartedPool { readonly pool: Piscina, readonly offer: DbOffer, readonly otherThreads: { list: () => readonly number[] } }

/// Light on purpose (Piscina and the hand-off only): a caller can start the workers before it loads
/// the scan service and the engine on its own thread.
export function startPool (options: PoolOptions): StartedPool {
  const offer = new DbOffer()
  const otherThreads = { list: (): readonly number[] => [] }
  return { pool: createPool(options, offer, () => otherThreads.list()), offer, otherThreads }
}
