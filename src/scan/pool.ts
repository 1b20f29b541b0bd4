/// The Piscina pool: construction only (bounded queue, per-worker heap limit, the compiled DB as
/// workerData). A signature reload builds a new pool; the old one finishes its in-flight scans.
import { Piscina } from 'piscina'
import { fileURLToPath } from 'node:url'
import { threadId } from 'node:worker_threads'
import type { CompiledDb } from '../engine/matcher/db.js'
import { releaseKernelSlots, type WasmMemory } from '../engine/matcher/kernel-memory.js'

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

/// kernelMemory: kernelMemoryFor(db), made once per DB by the caller (the calling thread may use it
/// too); `otherThreads`: the ids of other threads that map it (the leaf lane), whose slots stay theirs.
export function createPool (options: PoolOptions, db: CompiledDb, kernelMemory: WasmMemory | undefined, otherThreads: () => readonly number[] = () => []): Piscina {
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
    workerData: { db, kernelMemory },
  })
  // A worker that crashed, was killed past its deadline or hit its heap limit gives its kernel slot
  // back, so its replacement finds a free one. Its thread id reads -1 once it is gone: keep the slots
  // of the live workers, of this thread (the leaf scanner) and of the other threads, and free the rest.
  if (kernelMemory !== undefined) {
    pool.on('workerDestroy', () => { releaseKernelSlots(kernelMemory, new Set([threadId, ...otherThreads(), ...pool.threads.map(t => t.threadId)])) })
  }
  return pool
}
