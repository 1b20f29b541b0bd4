/// pino factory. The logger is created once in node.ts and passed down; nothing imports a global.
/// The default destination is stdout written asynchronously (SonicBoom, sync: false): one line per
/// transaction made a synchronous write(2) per ICAP request the single biggest cost after the pool
/// round trip on small bodies. Lines queued while a write is in flight go out together in the next
/// one, so a busy node makes few syscalls and an idle one still writes each line at once; pino
/// flushes what is queued synchronously on process exit.
import { pino, type Logger, type DestinationStream } from 'pino'

export type { Logger }

export function createLogger (level: string, nodeId: string, destination?: DestinationStream): Logger {
  const options = { level, base: { node: nodeId }, timestamp: pino.stdTimeFunctions.isoTime }
  return pino(options, destination ?? pino.destination({ dest: 1, sync: false }))
}
