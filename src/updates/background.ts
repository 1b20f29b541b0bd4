/// Loads and compiles a signature DB on a short-lived worker thread, so a reload (hundreds of
/// thousands of signatures, seconds of CPU) never blocks the event loop serving ICAP. The result's
/// SharedArrayBuffer is handed over by reference.
import { Worker } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import { ScanwallError, type ErrorCode, codes } from '../errors.js'
import type { DbLoadOptions, LoadedDb } from '../engine/signatures/cache.js'

const workerFile = fileURLToPath(new URL('../../workers/compile.js', import.meta.url))

type Reply = { ok: true, loaded: LoadedDb } | { ok: false, code: string, message: string }

export async function loadDbInBackground (path: string, options: DbLoadOptions): Promise<LoadedDb> {
  const worker = new Worker(workerFile, { workerData: { path, options } })
  try {
    const reply = await new Promise<Reply>((resolve, reject) => {
      worker.once('message', (m: Reply) => { resolve(m) })
      worker.once('error', reject)
      worker.once('exit', code => { reject(new ScanwallError('SIGDB_INVALID', `${path}: compiler thread exited with ${code}`)) })
    })
    if (reply.ok) return reply.loaded
    const code: ErrorCode = reply.code in codes ? reply.code as ErrorCode : 'SIGDB_INVALID'
    const err = new ScanwallError(code)
    err.message = reply.message
    throw err
  } finally {
    await worker.terminate()
  }
}
