/// The milter server: TCP on a host and port (and a cluster instance's extra ports) and/or a unix
/// socket (Postfix `inet:host:port` or `unix:/path`), a bounded number of connections (past it a
/// connection is closed at accept: Postfix applies milter_default_action), drain (per local
/// address for a cluster instance) and graceful close. Everything per connection is in
/// connection.ts; what a message is worth is the handler's.
import { EventEmitter } from 'node:events'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { chmod, unlink } from 'node:fs/promises'
import { MilterConnection } from './connection.js'
import { silentLogger, type MilterHandler, type MilterLogger } from './handler.js'
import type { MilterContext, MilterServerOptions } from './context.js'
import type { MilterServerEvents } from './events.js'

interface Listener { readonly server: Server, readonly kind: 'tcp' | 'unix', readonly port?: number }

export class MilterServer extends EventEmitter<MilterServerEvents> {
  readonly #options: MilterServerOptions
  readonly #ctx: MilterContext
  readonly #listeners: Listener[] = []
  readonly #connections = new Set<MilterConnection>()
  #draining = false
  #closing: Promise<void> | undefined

  constructor (options: MilterServerOptions, handler: MilterHandler, log: MilterLogger = silentLogger) {
    super()
    this.#options = options
    this.#ctx = { options, handler, log, emit: (event, ...args) => { (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args) } }
    const listener = (kind: 'tcp' | 'unix', port?: number): Listener =>
      ({ server: createServer({ noDelay: true }, s => { this.#accept(s, kind) }), kind, ...(port === undefined ? {} : { port }) })
    if (options.port !== undefined) for (const port of new Set([options.port, ...(options.extraPorts ?? [])])) this.#listeners.push(listener('tcp', port))
    if (options.socket !== undefined) this.#listeners.push(listener('unix'))
  }

  /// The main TCP address once listening (port 0 becomes the real port here).
  get address (): AddressInfo | undefined {
    const address = this.#listeners.find(l => l.kind === 'tcp')?.server.address()
    return address === null || address === undefined || typeof address === 'string' ? undefined : address
  }

  get connections (): number { return this.#connections.size }

  connectionsAt (local: string): number {
    let n = 0
    for (const c of this.#connections) if (c.local === local) n++
    return n
  }

  async listen (): Promise<AddressInfo | undefined> {
    try {
      for (const l of this.#listeners) await this.#listenOne(l)
    } catch (err) {
      await this.close(0)
      throw err
    }
    return this.address
  }

  async #listenOne (l: Listener): Promise<void> {
    const socket = this.#options.socket
    if (l.kind === 'unix' && socket !== undefined) await removeStaleSocket(socket)
    await new Promise<void>((resolve, reject) => {
      l.server.once('error', reject)
      const done = (): void => { l.server.off('error', reject); resolve() }
      if (l.kind === 'unix') l.server.listen(socket, done)
      else l.server.listen(l.port, this.#options.host, done)
    })
    // The MTA (Postfix runs as its own user) must be able to connect to the socket.
    if (l.kind === 'unix' && socket !== undefined) await chmod(socket, 0o666)
  }

  /// New messages go elsewhere: each connection finishes the message it is in, then closes. With
  /// `local`: only the connections made to that address (one cluster instance's virtual address).
  drain (local?: string): void {
    if (local === undefined) this.#draining = true
    for (const c of this.#connections) if (local === undefined || c.local === local) c.drain()
  }

  resume (): void { this.#draining = false }

  /// Stops listening, lets connections finish for up to graceMs, then closes the rest.
  async close (graceMs: number): Promise<void> {
    this.#closing ??= (async () => {
      this.drain()
      const closed = this.#listeners.map(async l => await new Promise<void>(resolve => { l.server.close(() => resolve()) }))
      const deadline = Date.now() + graceMs
      while (this.#connections.size > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
      for (const c of this.#connections) c.destroy()
      await Promise.all(closed)
    })()
    await this.#closing
  }

  #accept (socket: Socket, kind: 'tcp' | 'unix'): void {
    const remote = kind === 'unix' ? 'unix' : socket.remoteAddress ?? '-'
    if (this.#connections.size >= this.#options.maxConnections || this.#draining) {
      this.#ctx.emit('refused', { remote })
      socket.destroy()
      return
    }
    const conn = new MilterConnection(socket, this.#ctx, kind)
    this.#connections.add(conn)
    this.#ctx.emit('open', { remote, listener: kind })
    socket.once('close', () => {
      this.#connections.delete(conn)
      this.#ctx.emit('close', { remote, listener: kind })
    })
  }
}

/// A socket file left by a process that died is removed; a live one is left, so listen fails
/// with EADDRINUSE.
async function removeStaleSocket (path: string): Promise<void> {
  const alive = await new Promise<boolean>(resolve => {
    const c = connect(path)
    c.once('connect', () => { c.destroy(); resolve(true) })
    c.once('error', () => { resolve(false) })
  })
  if (!alive) await unlink(path).catch(() => {})
}
