/// The milter server: TCP on a host and port (and a cluster instance's extra ports) and/or a unix
/// socket (Postfix `inet:host:port` or `unix:/path`), a bounded number of connections (past it a
/// connection is closed at accept: Postfix applies milter_default_action), drain (per local
/// address for a cluster instance: each connection finishes the message it is in, then closes) and
/// graceful close; the listening itself is protocols/common/listeners.ts, shared with the clamd
/// server. Everything per connection is in connection.ts; what a message is worth is the handler's.
import { ListeningServer } from '../common/listeners.js'
import { MilterConnection } from './connection.js'
import { silentLogger, type MilterHandler, type MilterLogger } from './handler.js'
import type { MilterServerOptions } from './context.js'
import type { MilterServerEvents } from './events.js'

export class MilterServer extends ListeningServer<MilterConnection, MilterServerEvents> {
  constructor (options: MilterServerOptions, handler: MilterHandler, log: MilterLogger = silentLogger) {
    // The MTA (Postfix runs as its own user) must be able to connect to the socket.
    super({ ...options, socketMode: 0o666 }, emit => {
      const ctx = { options, handler, log, emit }
      return (socket, kind) => new MilterConnection(socket, ctx, kind)
    })
  }
}
