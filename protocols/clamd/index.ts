/// The clamd protocol server (clamd 1.4's wire protocol as clamdscan, clamav-milter, rspamd and the
/// npm clamscan package speak it), with the scanning left to the application. Public API: the
/// server and its options, the handler seam, the events, the reply builders and the parser.
export { ClamdServer } from './server.js'
export type { ClamdServerOptions, ClamdTimeouts } from './context.js'
export type { ClamdHandler, ClamdRequestInfo, StreamBody, ClamdLogger } from './handler.js'
export { silentLogger } from './handler.js'
export type { ClamdServerEvents, CommandRecord } from './events.js'
export { replies, resultLines, frame, statsBlock, versionCommands, type ScanReply, type StatsSnapshot } from './replies.js'
export { ClamdParser, type ClamdEvent, type ClamdParserLimits, type Terminator } from './parser.js'
export { classify, advertisedCommands, type Command, type CommandName, type Framing } from './commands.js'
export { scanLocalPath, isUnder, type LocalScanOptions, type PathCommand } from './local-scan.js'
