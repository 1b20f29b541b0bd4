/// Piscina task entry point: thin. Builds the engine once per worker from the compiled DB (shared
/// memory, not a copy: in workerData, or over the channel of src/scan/db-handoff.ts when the pool
/// started before the DB was loaded), then scans each task's body (memory, moved in without a copy;
/// or a file).
import { workerData } from 'node:worker_threads'
import { Engine } from '../src/engine/engine.js'
import { FileSource, MemorySource, type ByteSource } from '../src/engine/source.js'
import { defaultLimits, type ScanLimits } from '../src/engine/budget.js'
import type { ScanTask, ScanTaskResult } from '../src/scan/task.js'
import { receiveDb, type PoolDb, type PoolWorkerData } from '../src/scan/db-handoff.js'

// The compiled DB's SharedArrayBuffer and the kernel's shared memory arrive by reference: every
// worker maps the same memory. Tasks that come before the DB (the pool's warm-up) wait for it.
const data = workerData as PoolWorkerData
const build = ({ db, kernelMemory }: PoolDb): Engine => new Engine(db, { kernelMemory })
let engine: Engine | undefined
const engineReady: Promise<Engine> = 'db' in data ? Promise.resolve(engine = build(data)) : receiveDb(data.dbChannel).then(db => (engine = build(db)))
engineReady.catch(() => {}) // a task awaiting it gets the failure as its result; no unhandled rejection before one does

/// An AbortSignal-shaped view on the service's shared cancel flag. A class: an object literal with a
/// getter closing over the flag got a V8 hidden class of its own per task (~1.5 µs, and garbage that
/// outlives scavenges; measured on the ICAP scan context of the same shape, issue #10).
class FlagSignal {
  readonly #cells: Int32Array
  readonly reason = 'client went away'
  constructor (flag: SharedArrayBuffer) { this.#cells = new Int32Array(flag) }
  get aborted (): boolean { return Atomics.load(this.#cells, 0) !== 0 }
}

function flagSignal (flag: SharedArrayBuffer): AbortSignal {
  return new FlagSignal(flag) as unknown as AbortSignal
}

/// A file no larger than a child the walk keeps in memory (limits.spoolAboveBytes) is read whole at
/// once: its layers' handlers then read views of it, where each read of a FileSource (a gzip header, a
/// zip member's chunks, the central directory) opened, read and closed the file through the libuv
/// thread pool. Larger files, and any file that cannot be read here (the walk then says why, as
/// before), are read as they are walked.
async function fileSource (path: string, size: number, limits: ScanLimits): Promise<ByteSource> {
  const file = new FileSource(path, size)
  if (size > limits.spoolAboveBytes) return file
  try {
    return new MemorySource(await file.read(0, size))
  } catch {
    return file
  }
}

export default async function scan (task: ScanTask): Promise<ScanTaskResult> {
  const limits = { ...defaultLimits, ...task.limits, maxScanMs: task.timeoutMs }
  const source = task.source.kind === 'memory'
    ? new MemorySource(new Uint8Array(task.source.bytes, 0, task.source.size))
    : await fileSource(task.source.path, task.source.size, limits)
  let result: ScanTaskResult
  try {
    const verdict = await (engine ?? await engineReady).scan(source, 'object', limits, flagSignal(task.cancelFlag))
    result = { ok: true, verdict }
  } catch (err) {
    result = { ok: false, code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) }
  }
  if (task.returnBody && task.source.kind === 'memory') {
    // Loaded on first use: it pulls in Piscina's whole main module (35 ms and 1 MiB of heap per
    // worker), and only a body echoed back (ICAP 200 without Allow: 204) needs it.
    const { moveWithTransfer } = await import('../src/scan/transfer.js')
    return moveWithTransfer({ ...result, body: task.source.bytes }, [task.source.bytes])
  }
  return result
}
