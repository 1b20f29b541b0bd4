/// What a clamd command that needs no more input answers (PING, VERSION, STATS, RELOAD, SHUTDOWN,
/// the local path scans …), as lines plus the record the `command` event reports; the connection
/// frames and sends them. Also how a scan's lines become that record (result and threat), for
/// INSTREAM too.
import type { Command } from './commands.js'
import { replies, statsBlock, versionCommands } from './replies.js'
import { scanLocalPath } from './local-scan.js'
import type { ClamdContext } from './context.js'
import type { ClamdRequestInfo } from './handler.js'
import type { CommandRecord } from './events.js'

export interface Answer { readonly lines: readonly string[], readonly record: Omit<CommandRecord, 'remote' | 'listener' | 'ms'> }

export const noScan = (command: string, lines: readonly string[]): Answer => ({ lines, record: { command, bytes: 0, result: '-', threat: undefined } })

/// A scan's reply lines and its record: the first FOUND names the threat; any ERROR makes it an error.
export function scanAnswer (command: string, lines: readonly string[], bytes: number): Answer {
  const found = lines.find(l => l.endsWith(' FOUND'))
  const threat = found === undefined ? undefined : found.slice(found.lastIndexOf(': ') + 2, -' FOUND'.length)
  const result = found !== undefined ? 'found' : lines.some(l => l.endsWith(' ERROR')) ? 'error' : 'ok'
  return { lines, record: { command, bytes, result, threat } }
}

/// What the connection hands a command: who asked, and the connection's abort signal (made on first use).
export interface AnswerScope {
  readonly info: (command: string) => ClamdRequestInfo
  readonly signal: () => AbortSignal
}

/// The answer to a command that needs no more input (INSTREAM, IDSESSION and END are the
/// connection's own and never come here).
export async function answerCommand (command: Command, ctx: ClamdContext, scope: AnswerScope): Promise<Answer> {
  const handler = ctx.handler
  const name = command.name
  switch (name) {
    case 'PING': return noScan(name, [replies.pong])
    case 'VERSION': return noScan(name, [handler.version()])
    case 'VERSIONCOMMANDS': return noScan(name, [versionCommands(handler.version())])
    case 'STATS': return noScan(name, [statsBlock(handler.stats())])
    case 'RELOAD':
      handler.reload()
      return noScan(name, [replies.reloading])
    case 'SHUTDOWN':
    case 'QUIT':
      if (!ctx.options.allowShutdown) return noScan(name, [replies.shutdownRefused])
      handler.shutdown()
      return noScan(name, [])
    case 'FILDES': return noScan(name, [replies.fildesUnsupported])
    // clamd closes these without a word (detection statistics are not kept).
    case 'DETSTATS':
    case 'DETSTATSCLEAR': return noScan(name, [])
    case 'SCAN':
    case 'CONTSCAN':
    case 'MULTISCAN':
    case 'ALLMATCHSCAN': {
      const local = ctx.options.localScan
      if (local === undefined) return noScan(name, [replies.unavailable])
      const info = scope.info(name)
      const lines = await scanLocalPath(name, command.path, local, async (file, allMatch) => await handler.scanFile(file, info, scope.signal(), allMatch), scope.signal())
      return scanAnswer(name, lines, 0)
    }
    // Handled before a command is run: never reached.
    case 'INSTREAM':
    case 'IDSESSION':
    case 'END':
      return noScan(name, [replies.unknownCommand])
  }
}
