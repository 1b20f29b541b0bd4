/// Worker-thread entry point for the node's SQLite decision database (src/records/sqlite-thread.ts):
/// opens the store here (migrations included) and runs each call the I/O thread posts, one at a
/// time in arrival order, answering with the call's id. better-sqlite3 is synchronous, so a batch
/// written here costs the event loop serving ICAP nothing but the message.
import { parentPort, workerData } from 'node:worker_threads'
import { SqliteStore } from '../src/records/sqlite-store.js'
import type { StoreCall, StoreReply } from '../src/records/sqlite-thread.js'

const port = parentPort
const { path } = workerData as { path: string }

function reply (message: StoreReply): void { port?.postMessage(message) }

const failure = (err: unknown): string => err instanceof Error ? err.message : String(err)

let store: SqliteStore | undefined
try {
  store = new SqliteStore(path)
  reply({ id: 0, ok: true, value: undefined })
} catch (err) {
  reply({ id: 0, ok: false, message: failure(err) })
}

port?.on('message', (call: StoreCall) => {
  if (store === undefined) return
  const open = store
  const run = async (): Promise<unknown> => {
    switch (call.op) {
      case 'write': return await open.write(call.events, call.hourly)
      case 'prune': return await open.prune(call.eventsBeforeMs, call.hourlyBeforeSec)
      case 'events': return await open.events(call.sinceMs, call.limit)
      case 'totals': return await open.totals(call.dimension, call.sinceSec, call.limit)
      case 'close': return await open.close()
    }
  }
  run().then(value => { reply({ id: call.id, ok: true, value }) }, (err: unknown) => { reply({ id: call.id, ok: false, message: failure(err) }) })
})
