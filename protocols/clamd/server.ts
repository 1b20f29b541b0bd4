/// The clamd server: TCP on a host and port (and a cluster instance's extra ports) and/or a unix
/// socket, a bounded number of connections (past it a connection is closed at accept, as a full
/// clamd queue would leave it unanswered), drain and graceful close. Everything per connection is
/// in connection.ts; what to answer is the handler's (handler.ts); what happened is emitted.
import { EventEmitter } from 'node:events'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { unlink } from 'node:fs/promises'
import { ClamdConnection } from './connection.js'
import { silentLogger, type ClamdHandler, type ClamdLogger } from './handler.js'
import type { ClamdContext, ClamdServerOptions } from './context.js'
import type { ClamdServerEvents } from './events.js'

interface Listener { readonly server: Server, readonly kind: 'tcp' | 'unix', readonly port?: number }

export class ClamdServer extends EventEmitter<ClamdServerEvents> {
  readonly #options: ClamdServerOptions
  readonly #ctx: ClamdContext
  readonly #listeners: Listener[] = []
  readonly #connections = new Set<ClamdConnection>()
  #draining = false
  #closing: Promise<void> | undefined

  constructor (options: ClamdServerOptions, handler: ClamdHandler, log: ClamdLogger = silentLogger) {
    super()
    this.#options = options
    this.#ctx = {
      options,
      handler,
      log,
      emit: (event, ...args) => { (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args) },
    }
    // allowHalfOpen: clients shut their write side after the command and read the reply to EOF.
    const make = (kind: 'tcp' | 'unix', port?: number): Listener => ({ server: createServer({ allowHalfOpen: true, noDelay: true }, s => { this.#accept(s, kind) }), kind, ...(port === undefined ? {} : { port }) })
    if (options.port !== undefined) {
      for (const port of new Set([options.port, ...(options.extraPorts ?? [])])) this.#listeners.push(make('tcp', port))
    }
    if (options.socket !== undefined) this.#listeners.push(make('unix'))
  }

  /// The main TCP address once listening (port 0 becomes the real port here).
  get address (): AddressInfo | undefined {
    const address = this.#listeners.find(l => l.kind === 'tcp')?.server.address()
    return address === null || address === undefined || typeof address === 'string' ? undefined : address
  }

  get connections (): number { return this.#connections.size }

  /// Connections made to one local address (a cluster instance's virtual address).
  connectionsAt (local: string): number {
    let n = 0
    for (const c of this.#connections) if (c.local === local) n++
    return n
  }

  async listen (): Promise<AddressInfo | undefined> {
    try {
      for (const l of this.#listeners) {
        if (l.kind === 'unix' && this.#options.socket !== undefined) await removeStaleSocket(this.#options.socket)
        await new Promise<void>((resolve, reject) => {
          l.server.once('error', reject)
          const done = (): void => { l.server.off('error', reject); resolve() }
          if (l.kind === 'unix') l.server.listen(this.#options.socket, done)
          else l.server.listen(l.port, this.#options.host, done)
        })
      }
    } catch (err) {
      await this.close(0)
      throw err
    }
    return this.address
  }

  /// Stops accepting work: connections finish what they have started and close. With `local`: only
  /// the connections made to that address (one cluster instance's virtual address, whose new
  /// connections the cluster already sends elsewhere).
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
    const admit = this.#options.admit
    if (kind === 'tcp' && admit !== undefined && !admit(remote)) {
      // The allow list: closed synchronously in the accept callback, before a byte is read.
      socket.destroy()
      this.#ctx.emit('denied', { remote })
      return
    }
    if (this.#connections.size >= this.#options.maxConnections || this.#draining) {
      this.#ctx.emit('refused', { remote })
      socket.destroy()
      return
    }
    const conn = new ClamdConnection(socket, this.#ctx, kind)
    this.#connections.add(conn)
    this.#ctx.emit('open', { remote, listener: kind })
    socket.once('close', () => {
      this.#connections.delete(conn)
      this.#ctx.emit('close', { remote, listener: kind })
    })
  }
}

/// A socket file left by a process that died is removed (clamd's FixStaleSocket); a live one is not
/// touched, so listen fails with EADDRINUSE.
async function removeStaleSocket (path: string): Promise<void> {
  const alive = await new Promise<boolean>(resolve => {
    const c = connect(path)
    c.once('connect', () => { c.destroy(); resolve(true) })
    c.once('error', () => { resolve(false) })
  })
  if (!alive) await unlink(path).catch(() => {})
}
