/// pino factory. The logger is created once in node.ts and passed down; nothing imports a global.
/// The default destination is stdout written asynchronously and in batches (SonicBoom, sync: false,
/// minLength): one line per transaction made a write(2) per ICAP request, and on a loaded machine
/// each write (and each wake-up of a libuv thread for an async one) cost about as much of the
/// event-loop thread as the pool round trip on 4 KiB bodies. Lines now go out once 4 KiB have
/// accumulated or after at most 200 ms; pino flushes what is queued synchronously on process exit.
import { pino, type Logger, type DestinationStream } from 'pino'

export type { Logger }

export function createLogger (level: string, nodeId: string, destination?: DestinationStream): Logger {
  const options = { level, base: { node: nodeId }, timestamp: pino.stdTimeFunctions.isoTime }
  return pino(options, destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 200 }))
}
