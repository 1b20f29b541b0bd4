/// The milter server: TCP on a host and port (and a cluster instance's extra ports) and/or a unix
/// socket (Postfix `inet:host:port` or `unix:/path`), a bounded number of connections (past it a
/// connection is closed at accept: Postfix applies milter_default_action), drain (per local
/// address for a cluster instance) and graceful close; the listening itself is
/// protocols/common/listeners.ts, shared with the clamd server. Everything per connection is in
/// connection.ts; what a message is worth is the handler's.
import { EventEmitter } from 'node:events'
import type { AddressInfo } from 'node:net'
import { ConnectionListeners } from '../common/listeners.js'
import { MilterConnection } from './connection.js'
import { silentLogger, type MilterHandler, type MilterLogger } from './handler.js'
import type { MilterContext, MilterServerOptions } from './context.js'
import type { MilterServerEvents } from './events.js'

export class MilterServer extends EventEmitter<MilterServerEvents> {
  readonly #listeners: ConnectionListeners<MilterConnection>

  constructor (options: MilterServerOptions, handler: MilterHandler, log: MilterLogger = silentLogger) {
    super()
    const ctx: MilterContext = { options, handler, log, emit: (event, ...args) => { (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args) } }
    // The MTA (Postfix runs as its own user) must be able to connect to the socket.
    this.#listeners = new ConnectionListeners({ ...options, socketMode: 0o666 }, {
      connection: (socket, kind) => new MilterConnection(socket, ctx, kind),
      opened: (remote, listener) => { ctx.emit('open', { remote, listener }) },
      closed: (remote, listener) => { ctx.emit('close', { remote, listener }) },
      refused: remote => { ctx.emit('refused', { remote }) },
    })
  }

  /// The main TCP address once listening (port 0 becomes the real port here).
  get address (): AddressInfo | undefined { return this.#listeners.address }

  get connections (): number { return this.#listeners.connections }

  connectionsAt (local: string): number { return this.#listeners.connectionsAt(local) }

  async listen (): Promise<AddressInfo | undefined> { return await this.#listeners.listen() }

  /// New messages go elsewhere: each connection finishes the message it is in, then closes. With
  /// `local`: only the connections made to that address (one cluster instance's virtual address).
  drain (local?: string): void { this.#listeners.drain(local) }

  resume (): void { this.#listeners.resume() }

  /// Stops listening, lets connections finish for up to graceMs, then closes the rest.
  async close (graceMs: number): Promise<void> { await this.#listeners.close(graceMs) }
}
