/// ICAP/1.0 server (RFC 3507): accepts connections on one or more ports, enforces Max-Connections
/// (503 past it), and owns graceful drain and close, of the whole server or only of the connections
/// made to one local address (one cluster instance's virtual address). Everything per connection
/// lives in connection.ts; the protocol pieces in parser.ts, chunked.ts, encapsulated.ts, answer.ts
/// and respond.ts. What to answer is the handler's (handler.ts); what happened is emitted (events.ts).
import { EventEmitter } from 'node:events'
import { createServer, type Server, type AddressInfo, type Socket } from 'node:net'
import { createServer as createTlsServer, type TLSSocket } from 'node:tls'
import { IcapConnection, localAddress } from './connection.js'
import { Responder } from './respond.js'
import { ServiceTable } from './services.js'
import type { IcapContext, IcapServerOptions } from './context.js'
import type { ParserLimits } from './parser.js'
import { SpoolGate } from './spool-gate.js'
import { silentLogger, type IcapHandler, type IcapLogger } from './handler.js'
import type { IcapServerEvents } from './events.js'
import { statusOf, type IcapErrorCode } from './errors.js'
import { reusedReadBytes } from './reused-reads.js'

export type { IcapServerOptions, IcapTlsOptions } from './context.js'

/// Whether a TLS client presented a certificate at all (an empty object when it did not).
function hasPeerCertificate (socket: TLSSocket): boolean {
  return Object.keys(socket.getPeerCertificate()).length > 0
}

export class IcapServer<B = unknown> extends EventEmitter<IcapServerEvents> {
  readonly #options: IcapServerOptions
  readonly #log: IcapLogger
  readonly #server: Server
  readonly #extra: Server[]
  readonly #tls: Server | undefined
  readonly #connections = new Set<IcapConnection>()
  readonly #ctx: IcapContext
  /// Drain state: the whole server (then with the addresses brought back one by one, e.g. one cluster
  /// instance put online after the whole node went offline), or single local addresses.
  #drainingAll = false
  readonly #resumedAt = new Set<string>()
  readonly #drainingAt = new Set<string>()
  #closing: Promise<void> | undefined

  /// `log`: pino or anything with its call shape; the server is silent without one.
  constructor (options: IcapServerOptions, handler: IcapHandler<B>, log: IcapLogger = silentLogger) {
    super()
    this.#options = options
    this.#log = log
    const limits: ParserLimits = {
      maxHeaderBytes: options.maxHeaderBytes,
      maxHeaderCount: options.maxHeaderCount,
      // A chunk larger than the largest body handed on whole is never legitimate.
      maxChunkBytes: Math.max(options.maxBodyBytes, 1024 * 1024),
    }
    this.#ctx = {
      options,
      handler: handler as IcapHandler<unknown>,
      log,
      // The emitter's own typing cannot relate a generic K to its argument tuple; the context's can.
      emit: (event, ...args) => { (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args) },
      services: new ServiceTable(options.services),
      responder: new Responder({ serverName: options.serverName, istag: () => handler.istag(), answerHeaders: options.answerHeaders }),
      optionsSettings: options,
      limits,
      spoolGate: new SpoolGate(),
      readBuffer: options.reusedReads === false ? undefined : Buffer.allocUnsafe(reusedReadBytes),
      isDraining: local => this.#isDraining(local),
    }
    const server = (): Server => createServer({ noDelay: true, allowHalfOpen: true }, socket => { if (this.#admitted(socket)) this.#accept(socket) })
    this.#server = server()
    this.#extra = [...new Set(options.extraPorts ?? [])].filter(p => p !== options.port).map(server)
    this.#tls = options.tls === undefined ? undefined : this.#tlsServer(options.tls)
  }

  /// icaps://: the allow list is asked on the raw connection, before the handshake; the client
  /// certificate rule once it is done; then the connection is served like a plain one.
  #tlsServer (tls: NonNullable<IcapServerOptions['tls']>): Server {
    const mode = tls.clientCertificates
    const server = createTlsServer({
      ...tls.options,
      requestCert: mode !== 'none',
      rejectUnauthorized: mode === 'require',
      allowHalfOpen: true,
      noDelay: true,
    }, socket => {
      // `optional`: no certificate is fine, a certificate that does not verify is not.
      if (mode === 'optional' && !socket.authorized && hasPeerCertificate(socket)) {
        this.emit('tlsRefused', { remote: socket.remoteAddress ?? '-', reason: String(socket.authorizationError) })
        socket.destroy()
        return
      }
      this.#accept(socket)
    })
    server.on('connection', (raw: Socket) => { this.#admitted(raw) })
    server.on('tlsClientError', (err, socket) => {
      // A client that went away (or one the allow list closed, which has no address any more) is
      // no refusal of ours.
      if (socket.remoteAddress === undefined || /ECONNRESET|socket hang up/.test(err.message)) return
      this.emit('tlsRefused', { remote: socket.remoteAddress, reason: err.message.trim() })
    })
    return server
  }

  /// The bound address once listening (port 0 in the config becomes the real port here).
  get address (): AddressInfo | undefined {
    const address = this.#server.address()
    return address === null || typeof address === 'string' ? undefined : address
  }

  /// Connections currently open (for tests and the SNMP gauge).
  get connections (): number { return this.#connections.size }

  /// Listens on the main port and every extra port; resolves with the main port's address.
  /// The icaps:// listener's address once listening.
  get tlsAddress (): AddressInfo | undefined {
    const address = this.#tls?.address()
    return address === null || address === undefined || typeof address === 'string' ? undefined : address
  }

  async listen (): Promise<AddressInfo> {
    const ports = [this.#options.port, ...[...new Set(this.#options.extraPorts ?? [])].filter(p => p !== this.#options.port)]
    const servers = [this.#server, ...this.#extra]
    if (this.#tls !== undefined && this.#options.tls !== undefined) {
      servers.push(this.#tls)
      ports.push(this.#options.tls.port)
    }
    try {
      for (const [i, server] of servers.entries()) {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject)
          server.listen(ports[i], this.#options.host, () => { server.off('error', reject); resolve() })
        })
        server.on('error', err => { this.#log.error({ err: err.message }, 'icap listener error') })
      }
    } catch (err) {
      for (const server of servers) if (server.listening) server.close()
      throw err
    }
    return this.#server.address() as AddressInfo
  }

  /// The allow list (options.admit): a connection from elsewhere is closed here, synchronously in
  /// the accept callback, so not a byte of it is read.
  #admitted (socket: Socket): boolean {
    const admit = this.#options.admit
    const remote = socket.remoteAddress ?? '-'
    if (admit === undefined || admit(remote)) return true
    const local = localAddress(socket)
    socket.destroy()
    this.emit('denied', { remote, local })
    return false
  }

  #accept (socket: Socket): void {
    const local = localAddress(socket)
    const refusal: IcapErrorCode | undefined = this.#connections.size >= this.#options.maxConnections
      ? 'ICAP_TOO_MANY_CONNECTIONS'
      : this.#isDraining(local) ? 'ICAP_DRAINING' : undefined
    if (refusal !== undefined) {
      // Past Max-Connections (which OPTIONS advertises), or draining: an answer now, rather than a
      // queue no one sees.
      this.emit('refused', { code: refusal, remote: socket.remoteAddress ?? '-' })
      socket.on('error', () => {})
      socket.on('data', () => {})
      socket.on('end', () => socket.destroy())
      socket.end(this.#ctx.responder.simple(statusOf(refusal), true))
      setTimeout(() => socket.destroy(), 2_000).unref()
      return
    }
    const conn = new IcapConnection(socket, this.#ctx, c => {
      this.#connections.delete(c)
      this.emit('close', { remote: c.remote, local: c.local })
    })
    this.#connections.add(conn)
    this.emit('open', { remote: conn.remote, local: conn.local, reusedReads: conn.reusedReads })
  }

  /// Drain: keep serving, but answer `Connection: close` after each current transaction; new
  /// connections get a 503. With `local`, only connections made to that local address (one cluster
  /// instance's virtual address); the others go on as before.
  drain (local?: string): void {
    if (local === undefined) {
      this.#drainingAll = true
      this.#resumedAt.clear()
    } else if (this.#drainingAll) {
      this.#resumedAt.delete(local)
    } else {
      this.#drainingAt.add(local)
    }
    for (const conn of this.#connections) if (local === undefined || conn.local === local) conn.drain()
  }

  /// Undo drain (cluster `node online`), of the whole server or of one local address.
  resume (local?: string): void {
    if (local === undefined) {
      this.#drainingAll = false
      this.#resumedAt.clear()
      this.#drainingAt.clear()
    } else if (this.#drainingAll) {
      this.#resumedAt.add(local)
    } else {
      this.#drainingAt.delete(local)
    }
  }

  #isDraining (local: string): boolean {
    return this.#drainingAll ? !this.#resumedAt.has(local) : this.#drainingAt.has(local)
  }

  /// Connections open now, all or those made to one local address.
  connectionsAt (local?: string): number {
    if (local === undefined) return this.#connections.size
    let n = 0
    for (const conn of this.#connections) if (conn.local === local) n++
    return n
  }

  /// Stops accepting, lets in-flight transactions finish for up to graceMs, then closes the rest.
  async close (graceMs: number): Promise<void> {
    this.#closing ??= this.#close(graceMs)
    await this.#closing
  }

  async #close (graceMs: number): Promise<void> {
    const closed = Promise.all([this.#server, ...this.#extra, ...(this.#tls === undefined ? [] : [this.#tls])].map(async server => {
      await new Promise<void>(resolve => { if (server.listening) server.close(() => resolve()); else resolve() })
    }))
    this.drain()
    const deadline = Date.now() + graceMs
    while (this.#connections.size > 0 && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, Math.min(50, Math.max(1, deadline - Date.now()))))
    }
    for (const conn of this.#connections) conn.destroy()
    await closed
  }
}
