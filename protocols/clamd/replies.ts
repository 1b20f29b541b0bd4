/// clamd's replies, byte for byte as clamd 1.4 writes them (checked against a real clamd by
/// test/integration/clamd-conformance): the result line of a path or a stream, the fixed messages,
/// VERSIONCOMMANDS and STATS, the `<id>: ` prefix inside an IDSESSION, and the terminator that
/// matches the command's own framing.
import { advertisedCommands } from './commands.js'
import type { Terminator } from './parser.js'

/// What the application says about one scanned object (a file or a stream).
export type ScanReply =
  | { readonly kind: 'ok' }
  /// One name per line; ALLMATCHSCAN lists every match, the others the first.
  | { readonly kind: 'found', readonly names: readonly string[] }
  | { readonly kind: 'error', readonly message: string }

export const replies = {
  pong: 'PONG',
  reloading: 'RELOADING',
  unknownCommand: 'UNKNOWN COMMAND',
  commandReadTimedOut: 'COMMAND READ TIMED OUT',
  sizeLimitExceeded: 'INSTREAM size limit exceeded. ERROR',
  invalidInSession: 'Command invalid inside IDSESSION. ERROR',
  unavailable: 'COMMAND UNAVAILABLE',
  shutdownRefused: 'SHUTDOWN refused: clamd.allowShutdown is off. ERROR',
  fildesUnsupported: 'FILDES is not supported (descriptors cannot be received): use INSTREAM. ERROR',
} as const

/// The lines for one object: `<name>: OK`, `<name>: <threat> FOUND` (one per threat), or
/// `<name>: <message> ERROR`.
export function resultLines (name: string, reply: ScanReply): string[] {
  switch (reply.kind) {
    case 'ok': return [`${name}: OK`]
    case 'found': return reply.names.map(threat => `${name}: ${threat} FOUND`)
    case 'error': return [`${name}: ${reply.message} ERROR`]
  }
}

export function versionCommands (version: string): string {
  return `${version}| COMMANDS: ${advertisedCommands}`
}

export interface StatsSnapshot {
  /// Scans running now, the workers that could run them, and scans waiting for one.
  readonly busy: number
  readonly workers: number
  readonly queued: number
  /// Bytes of memory in use and reserved (clamd's pools_used / pools_total), if known.
  readonly usedBytes: number
  readonly totalBytes: number
}

const megabytes = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(3)}M`

/// STATS in clamd's layout (clamd/server-th.c: thrmgr_printstats), which monitoring scripts parse:
/// the pool, its threads and queue, the memory line, END.
export function statsBlock (s: StatsSnapshot): string {
  return [
    'POOLS: 1', '', 'STATE: VALID PRIMARY',
    `THREADS: live ${s.busy}  idle ${Math.max(0, s.workers - s.busy)} max ${s.workers} idle-timeout 30`,
    `QUEUE: ${s.queued} items`, '\tSTATS 0.000000 ', '',
    `MEMSTATS: heap N/A mmap N/A used N/A free N/A releasable N/A pools 1 pools_used ${megabytes(s.usedBytes)} pools_total ${megabytes(s.totalBytes)}`,
    'END',
  ].join('\n')
}

/// `stream: OK` outside a session, the reply to nearly every INSTREAM, made once.
const streamOk = { '\0': Buffer.from('stream: OK\0', 'latin1'), '\n': Buffer.from('stream: OK\n', 'latin1') } as const

/// One reply as written: each line ends with the terminator; inside a session each line carries the
/// command's id (clamd prefixes every line it sends for that command). The bytes may be shared:
/// write them, never modify them.
export function frame (lines: readonly string[], terminator: Terminator, id?: number): Buffer {
  if (id === undefined && lines.length === 1 && lines[0] === 'stream: OK') return streamOk[terminator]
  const prefix = id === undefined ? '' : `${id}: `
  return Buffer.from(lines.map(line => `${prefix}${line}${terminator}`).join(''), 'latin1')
}
