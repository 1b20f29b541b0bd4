/// The milter protocol server, filter side (version 6, as Postfix's smtpd_milters and Sendmail's
/// INPUT_MAIL_FILTER speak it), with the judging left to the application. Public API: the server
/// and its options, the handler seam, the events, the packet builders and the parser.
export { MilterServer } from './server.js'
export type { MilterServerOptions, MilterLimits } from './context.js'
export type { MilterHandler, MilterEnvelope, MessageBody, MessageSummary, MilterAnswer, HeaderField, MilterLogger } from './handler.js'
export { silentLogger } from './handler.js'
export type { MilterServerEvents } from './events.js'
export { MilterParser, type MilterEvent, type MilterCommand, type MilterParserLimits, type ConnectFamily } from './parser.js'
export { packet, negotiate, verdict, progress, modification, type Modification, type VerdictReply } from './replies.js'
export { Action, Command, MacroStage, Reply, Step, milterVersion, type MacroStageName } from './constants.js'
export { wantedActions, wantedSteps } from './connection.js'
