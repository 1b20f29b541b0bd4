/// The leaf lane's thread (src/scan/leaf-lane.ts): one engine matching small leaf objects for the
/// I/O thread, so the I/O thread reads sockets while this thread runs the anchor kernel. A bare
/// MessagePort, not a Piscina task: the pool's task machinery cost the I/O thread ~110-200 µs per
/// object more than a bare round trip (BENCHMARKS.md, "64 KiB and the second CPU").
import { parentPort, workerData } from 'node:worker_threads'
import { Engine } from '../src/engine/engine.js'
import type { CompiledDb } from '../src/engine/matcher/db.js'
import type { WasmMemory } from '../src/engine/matcher/kernel-memory.js'
import type { LeafReply, LeafRequest, LeafWorkerData } from '../src/scan/leaf-lane.js'

const { db, kernelMemory, limits } = workerData as LeafWorkerData & { db: CompiledDb, kernelMemory?: WasmMemory }
const engine = new Engine(db, { kernelMemory })
const port = parentPort
if (port === null) throw new Error('workers/leaf.js runs as a worker thread')

port.on('message', (request: LeafRequest) => {
  let reply: LeafReply
  try {
    // undefined: not a leaf (a type with a handler, an embedded archive): the pool walks it.
    const verdict = engine.scanLeaf(new Uint8Array(request.bytes, 0, request.size), 'object', limits)
    reply = { id: request.id, bytes: request.bytes, verdict }
  } catch (err) {
    reply = { id: request.id, bytes: request.bytes, error: err instanceof Error ? err.message : String(err) }
  }
  // The body goes back with the answer (moved, not copied): the I/O thread echoes it or hands it on.
  port.postMessage(reply, [request.bytes])
})
port.postMessage({ ready: true })
