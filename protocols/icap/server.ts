/// ICAP/1.0 server (RFC 3507): accepts connections, enforces Max-Connections (503 past it), and
/// owns graceful drain and close. Everything per connection lives in connection.ts; the protocol
/// pieces in parser.ts, chunked.ts, encapsulated.ts, answer.ts and respond.ts.
import { createServer, type Server, type AddressInfo, type Socket } from 'node:net'
import { IcapConnection } from './connection.js'
import { Responder } from './respond.js'
import { ServiceTable } from './services.js'
import type { IcapContext, IcapDeps, IcapServerOptions } from './context.js'
import type { ParserLimits } from './parser.js'
import { SpoolGate } from './spool-gate.js'

export type { IcapServerOptions, IcapDeps } from './context.js'

export class IcapServer {
  readonly #options: IcapServerOptions
  readonly #deps: IcapDeps
  readonly #server: Server
  readonly #connections = new Set<IcapConnection>()
  readonly #ctx: IcapContext & { draining: boolean }
  #closing: Promise<void> | undefined

  constructor (options: IcapServerOptions, deps: IcapDeps) {
    this.#options = options
    this.#deps = deps
    const limits: ParserLimits = {
      maxHeaderBytes: options.maxHeaderBytes,
      maxHeaderCount: options.maxHeaderCount,
      // A chunk larger than the largest object we accept is never legitimate.
      maxChunkBytes: Math.max(options.maxObjectBytes, 1024 * 1024),
    }
    this.#ctx = {
      options,
      deps,
      services: new ServiceTable(options.services),
      responder: new Responder({ nodeId: options.nodeId, blockTemplate: options.blockTemplate, dbVersion: () => deps.scan.dbVersion }),
      optionsSettings: options,
      limits,
      spoolGate: new SpoolGate(),
      draining: false,
    }
    this.#server = createServer({ noDelay: true, allowHalfOpen: true }, socket => { this.#accept(socket) })
  }

  /// The bound address once listening (port 0 in the config becomes the real port here).
  get address (): AddressInfo | undefined {
    const address = this.#server.address()
    return address === null || typeof address === 'string' ? undefined : address
  }

  /// Connections currently open (for tests and the SNMP gauge).
  get connections (): number { return this.#connections.size }

  async listen (): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(this.#options.port, this.#options.host, () => { this.#server.off('error', reject); resolve() })
    })
    this.#server.on('error', err => { this.#deps.log.error({ err: err.message }, 'icap listener error') })
    return this.#server.address() as AddressInfo
  }

  #accept (socket: Socket): void {
    const metrics = this.#deps.metrics
    if (this.#connections.size >= this.#options.maxConnections || this.#ctx.draining) {
      // Past Max-Connections (which OPTIONS advertises): a 503 now, rather than a queue no one sees.
      metrics.overloads++
      socket.on('error', () => {})
      socket.on('data', () => {})
      socket.on('end', () => socket.destroy())
      socket.end(this.#ctx.responder.simple(503, true))
      setTimeout(() => socket.destroy(), 2_000).unref()
      return
    }
    metrics.connectionsOpen++
    metrics.connectionsTotal++
    const conn = new IcapConnection(socket, this.#ctx, c => {
      this.#connections.delete(c)
      metrics.connectionsOpen--
    })
    this.#connections.add(conn)
  }

  /// Drain: keep serving, but answer `Connection: close` after each current transaction.
  drain (): void {
    this.#ctx.draining = true
    for (const conn of this.#connections) conn.drain()
  }

  /// Undo drain (cluster `node online`): new connections and transactions are served and kept alive again.
  resume (): void {
    this.#ctx.draining = false
  }

  /// Stops accepting, lets in-flight transactions finish for up to graceMs, then closes the rest.
  async close (graceMs: number): Promise<void> {
    this.#closing ??= this.#close(graceMs)
    await this.#closing
  }

  async #close (graceMs: number): Promise<void> {
    const closed = new Promise<void>(resolve => this.#server.close(() => resolve()))
    this.drain()
    const deadline = Date.now() + graceMs
    while (this.#connections.size > 0 && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, Math.min(50, Math.max(1, deadline - Date.now()))))
    }
    for (const conn of this.#connections) conn.destroy()
    await closed
  }
}
