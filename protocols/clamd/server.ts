/// The clamd server: TCP on a host and port (and a cluster instance's extra ports) and/or a unix
/// socket, an allow list, a bounded number of connections (past it a connection is closed at
/// accept, as a full clamd queue would leave it unanswered), drain and graceful close; the listening
/// itself is protocols/common/listeners.ts, shared with the milter server. Everything per
/// connection is in connection.ts; what to answer is the handler's (handler.ts); what happened is
/// emitted.
import { EventEmitter } from 'node:events'
import type { AddressInfo } from 'node:net'
import { ConnectionListeners } from '../common/listeners.js'
import { ClamdConnection } from './connection.js'
import { silentLogger, type ClamdHandler, type ClamdLogger } from './handler.js'
import type { ClamdContext, ClamdServerOptions } from './context.js'
import type { ClamdServerEvents } from './events.js'

export class ClamdServer extends EventEmitter<ClamdServerEvents> {
  readonly #listeners: ConnectionListeners<ClamdConnection>

  constructor (options: ClamdServerOptions, handler: ClamdHandler, log: ClamdLogger = silentLogger) {
    super()
    const ctx: ClamdContext = { options, handler, log, emit: (event, ...args) => { (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args) } }
    // allowHalfOpen: clients shut their write side after the command and read the reply to EOF.
    this.#listeners = new ConnectionListeners({ ...options, allowHalfOpen: true }, {
      connection: (socket, kind) => new ClamdConnection(socket, ctx, kind),
      opened: (remote, listener) => { ctx.emit('open', { remote, listener }) },
      closed: (remote, listener) => { ctx.emit('close', { remote, listener }) },
      refused: remote => { ctx.emit('refused', { remote }) },
      denied: remote => { ctx.emit('denied', { remote }) },
    })
  }

  /// The main TCP address once listening (port 0 becomes the real port here).
  get address (): AddressInfo | undefined { return this.#listeners.address }

  get connections (): number { return this.#listeners.connections }

  /// Connections made to one local address (a cluster instance's virtual address).
  connectionsAt (local: string): number { return this.#listeners.connectionsAt(local) }

  async listen (): Promise<AddressInfo | undefined> { return await this.#listeners.listen() }

  /// Stops accepting work: connections finish what they have started and close. With `local`: only
  /// the connections made to that address (one cluster instance's virtual address, whose new
  /// connections the cluster already sends elsewhere).
  drain (local?: string): void { this.#listeners.drain(local) }

  resume (): void { this.#listeners.resume() }

  /// Stops listening, lets connections finish for up to graceMs, then closes the rest.
  async close (graceMs: number): Promise<void> { await this.#listeners.close(graceMs) }
}
