/// pino factory. The logger is created once in node.ts and passed down; nothing imports a global.
import { pino, type Logger, type DestinationStream } from 'pino'

export type { Logger }

export function createLogger (level: string, nodeId: string, destination?: DestinationStream): Logger {
  const options = { level, base: { node: nodeId }, timestamp: pino.stdTimeFunctions.isoTime }
  return destination === undefined ? pino(options) : pino(options, destination)
}
