/// Piscina task entry point: thin. Builds the engine once per worker from the compiled DB (shared
/// memory, not a copy: in workerData, or over the channel of src/scan/db-handoff.ts when the pool
/// started before the DB was loaded), then scans each task's body (memory, moved in without a copy;
/// or a file).
import { closeSync, openSync, readSync } from 'node:fs'
import { workerData } from 'node:worker_threads'
import { Engine } from '../src/engine/engine.js'
import { FileSource, MemorySource, type ByteSource } from '../src/engine/source.js'
import { defaultLimits, type ScanLimits } from '../src/engine/budget.js'
import type { ScanTask, ScanTaskResult } from '../src/scan/task.js'
import { receiveDb, type PoolWorkerData } from '../src/scan/db-handoff.js'

// The compiled DB's SharedArrayBuffer and the kernel's shared memory arrive by reference: every
// worker maps the same memory. The engine is built before this module finishes loading (a top-level
// await), so before the worker tells Piscina it is ready: Piscina's worker then waits for tasks in
// Atomics.wait, which blocks its event loop, so a DB that arrived over the channel while it waited
// was only taken in, and the engine built, once the first task came (`scanwall scan`'s first files
// waited for it). A build that fails is each task's failure, as before.
const data = workerData as PoolWorkerData
const engine: Engine | Error = await (async () => {
  try {
    const { db, kernelMemory } = 'db' in data ? data : await receiveDb(data.dbChannel)
    return new Engine(db, { kernelMemory })
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err))
  }
})()

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
/// thread pool. Read synchronously: this worker runs one task at a time and has nothing else to do
/// meanwhile, and each asynchronous step (open, reads, close) was a round trip through libuv's
/// thread pool that left the worker idle (about 5 % of its time on the peers' corpus). Larger
/// files, and any file that cannot be read here (the walk then says why, as before), are read as
/// they are walked.
function fileSource (path: string, size: number, limits: ScanLimits): ByteSource {
  if (size <= limits.spoolAboveBytes) {
    try {
      return new MemorySource(readWhole(path, size))
    } catch {}
  }
  return new FileSource(path, size)
}

/// The memory files are read into, kept for the next file: a worker scans file after file, and fresh
/// memory for each cost its page faults again (0.7-0.8 ms of CPU per MiB read, against 0.2-0.3 into
/// memory already touched; the peers' 193 MB corpus read whole). At most limits.spoolAboveBytes
/// (8 MiB) stays with the worker. Safe to reuse because a worker runs one task at a time and a
/// finished scan keeps no view of its bytes (the verdict is names, offsets and counts).
let readBuffer = new Uint8Array(0)

/// Up to `size` bytes from the start of the file (fewer if it shrank since it was walked).
function readWhole (path: string, size: number): Uint8Array {
  if (readBuffer.length < size) readBuffer = new Uint8Array(Math.max(size, Math.min(2 * readBuffer.length, 8 << 20)))
  const out = readBuffer.subarray(0, size)
  const fd = openSync(path, 'r')
  try {
    let got = 0
    while (got < size) {
      const n = readSync(fd, out, got, size - got, got)
      if (n === 0) break
      got += n
    }
    return out.subarray(0, got)
  } finally {
    closeSync(fd)
  }
}

export default async function scan (task: ScanTask): Promise<ScanTaskResult> {
  const limits = { ...defaultLimits, ...task.limits, maxScanMs: task.timeoutMs }
  const source = task.source.kind === 'memory'
    ? new MemorySource(new Uint8Array(task.source.bytes, 0, task.source.size))
    : fileSource(task.source.path, task.source.size, limits)
  let result: ScanTaskResult
  try {
    if (engine instanceof Error) throw engine
    const verdict = await engine.scan(source, 'object', limits, flagSignal(task.cancelFlag))
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
