/// The clamd server: TCP on a host and port (and a cluster instance's extra ports) and/or a unix
/// socket, an allow list, a bounded number of connections (past it a connection is closed at
/// accept, as a full clamd queue would leave it unanswered), drain and graceful close; the listening
/// itself is protocols/common/listeners.ts, shared with the milter server. Everything per
/// connection is in connection.ts; what to answer is the handler's (handler.ts); what happened is
/// emitted.
import { ListeningServer } from '../common/listeners.js'
import { ClamdConnection } from './connection.js'
import { silentLogger, type ClamdHandler, type ClamdLogger } from './handler.js'
import type { ClamdServerOptions } from './context.js'
import type { ClamdServerEvents } from './events.js'

export class ClamdServer extends ListeningServer<ClamdConnection, ClamdServerEvents> {
  constructor (options: ClamdServerOptions, handler: ClamdHandler, log: ClamdLogger = silentLogger) {
    // allowHalfOpen: clients shut their write side after the command and read the reply to EOF.
    super({ ...options, allowHalfOpen: true }, emit => {
      const ctx = { options, handler, log, emit }
      return (socket, kind) => new ClamdConnection(socket, ctx, kind)
    })
  }
}
