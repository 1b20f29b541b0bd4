/// Piscina task entry point: thin. Builds the engine once per worker from the compiled DB in
/// workerData (shared memory, not a copy), then scans each task's body (memory, moved in without a copy; or a spool file).
import { workerData } from 'node:worker_threads'
import { Engine } from '../src/engine/engine.js'
import { FileSource, MemorySource } from '../src/engine/source.js'
import { defaultLimits } from '../src/engine/budget.js'
import type { CompiledDb } from '../src/engine/matcher/db.js'
import type { WasmMemory } from '../src/engine/matcher/kernel-memory.js'
import type { ScanTask, ScanTaskResult } from '../src/scan/task.js'

// The compiled DB's SharedArrayBuffer and the kernel's shared memory arrive by reference: every
// worker maps the same memory.
const { db, kernelMemory } = workerData as { db: CompiledDb, kernelMemory?: WasmMemory }
const engine = new Engine(db, { kernelMemory })

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

export default async function scan (task: ScanTask): Promise<ScanTaskResult> {
  const source = task.source.kind === 'memory'
    ? new MemorySource(new Uint8Array(task.source.bytes, 0, task.source.size))
    : new FileSource(task.source.path, task.source.size)
  const limits = { ...defaultLimits, ...task.limits, maxScanMs: task.timeoutMs }
  let result: ScanTaskResult
  try {
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
