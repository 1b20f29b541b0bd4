/// clamd's command table as clamd 1.4 (clamd/session.c) accepts it: the names, which take a path
/// argument, which may be sent old-style (unprefixed, first command of a connection only) and which
/// are allowed inside an IDSESSION. The parser uses it to cut and classify commands; the connection
/// to refuse what a session does not allow.

export type CommandName =
  | 'SCAN' | 'CONTSCAN' | 'MULTISCAN' | 'ALLMATCHSCAN'
  | 'PING' | 'VERSION' | 'VERSIONCOMMANDS' | 'RELOAD' | 'SHUTDOWN' | 'QUIT'
  | 'STATS' | 'INSTREAM' | 'IDSESSION' | 'END' | 'FILDES' | 'DETSTATS' | 'DETSTATSCLEAR'

interface CommandSpec {
  /// Takes `<name> <path>`; without the path it is not this command (clamd: UNKNOWN COMMAND).
  readonly path: boolean
  readonly oldStyle: boolean
  readonly inSession: boolean
}

const table: Record<CommandName, CommandSpec> = {
  SCAN: { path: true, oldStyle: true, inSession: true },
  CONTSCAN: { path: true, oldStyle: true, inSession: false },
  MULTISCAN: { path: true, oldStyle: true, inSession: false },
  ALLMATCHSCAN: { path: true, oldStyle: false, inSession: false },
  PING: { path: false, oldStyle: true, inSession: true },
  VERSION: { path: false, oldStyle: true, inSession: true },
  VERSIONCOMMANDS: { path: false, oldStyle: false, inSession: true },
  RELOAD: { path: false, oldStyle: true, inSession: false },
  SHUTDOWN: { path: false, oldStyle: true, inSession: false },
  QUIT: { path: false, oldStyle: true, inSession: false },
  STATS: { path: false, oldStyle: false, inSession: true },
  INSTREAM: { path: false, oldStyle: false, inSession: true },
  IDSESSION: { path: false, oldStyle: false, inSession: false },
  END: { path: false, oldStyle: false, inSession: true },
  FILDES: { path: false, oldStyle: true, inSession: true },
  DETSTATS: { path: false, oldStyle: true, inSession: false },
  DETSTATSCLEAR: { path: false, oldStyle: true, inSession: false },
}

/// The list VERSIONCOMMANDS prints, in clamd's order.
export const advertisedCommands = 'SCAN QUIT RELOAD PING CONTSCAN VERSIONCOMMANDS VERSION END SHUTDOWN MULTISCAN FILDES STATS IDSESSION INSTREAM DETSTATSCLEAR DETSTATS ALLMATCHSCAN'

/// How a command was framed: `z` (NUL-terminated), `n` (newline) or old-style (unprefixed).
export type Framing = 'z' | 'n' | 'old'

export interface Command {
  readonly name: CommandName
  /// The path of SCAN-like commands, as sent (clamd strips nothing but the one separating space).
  readonly path: string
  readonly framing: Framing
}

export function isInSessionCommand (name: CommandName): boolean { return table[name].inSession }

/// One command line (prefix and terminator removed) as clamd reads it: an exact, case-sensitive
/// name, then for path commands one space and the rest of the line. Anything else is undefined
/// (UNKNOWN COMMAND), including an old-style line naming a command clamd only takes prefixed.
export function classify (line: string, framing: Framing): Command | undefined {
  const space = line.indexOf(' ')
  const word = space < 0 ? line : line.slice(0, space)
  if (!Object.hasOwn(table, word)) return undefined
  const name = word as CommandName
  const spec = table[name]
  if (framing === 'old' && !spec.oldStyle) return undefined
  if (spec.path !== (space >= 0)) return undefined
  return { name, path: space < 0 ? '' : line.slice(space + 1), framing }
}
