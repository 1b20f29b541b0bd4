/// Worker-thread entry point for a background DB load: parses and compiles off the event loop, then
/// posts the CompiledDb back. Its SharedArrayBuffer crosses by reference, so nothing is copied.
import { parentPort, workerData } from 'node:worker_threads'
import { loadDb, type DbLoadOptions } from '../src/engine/signatures/cache.js'

const { path, options } = workerData as { path: string, options: DbLoadOptions }

loadDb(path, options).then(
  loaded => { parentPort?.postMessage({ ok: true, loaded }) },
  (err: unknown) => {
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'SIGDB_INVALID'
    parentPort?.postMessage({ ok: false, code, message: err instanceof Error ? err.message : String(err) })
  }
)
