/// The listening half the clamd and milter protocol servers share: TCP on a host and port (plus a
/// cluster instance's extra ports) and/or a unix socket (a stale socket file of a dead process
/// removed first, a live one left so listen fails with EADDRINUSE), an optional allow-list check and
/// a bound on open connections at accept, the set of open connections, drain (all, or those made to
/// one local address: a cluster instance's virtual address) and graceful close. What a connection
/// does is the server's: it builds the connection and hears what happened through the hooks.
/// `ListeningServer` is the public face both servers share: an EventEmitter reporting `open`,
/// `close`, `refused` and `denied`, with address, counts, listen, drain and close.
/// Not in icap-server-lite: that package stands alone (its own workspace) and has its own listener.
import { EventEmitter } from 'node:events'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { chmod, unlink } from 'node:fs/promises'

export type ListenerKind = 'tcp' | 'unix'

/// What the listeners need of a connection: where it was made to and the two ways to end it.
export interface ServedConnection {
  /// The local address the client connected to.
  readonly local: string
  /// Finish what was started, then close.
  drain: () => void
  destroy: () => void
}

export interface ListenerOptions {
  /// TCP listener: host and port (port undefined: no TCP listener; 0: any free port).
  readonly host: string
  readonly port: number | undefined
  /// Extra TCP ports on the same host (a cluster instance's ports).
  readonly extraPorts?: readonly number[] | undefined
  /// Unix socket path (undefined: none).
  readonly socket: string | undefined
  /// Mode the socket file gets once listening (a client running as another user must connect).
  readonly socketMode?: number | undefined
  /// Keep a socket open after the client shut its write side (clamd clients half-close).
  readonly allowHalfOpen?: boolean | undefined
  readonly maxConnections: number
  /// Asked with each new TCP connection's remote address; false closes it before a byte is read.
  readonly admit?: ((remote: string) => boolean) | undefined
}

export interface ListenerHooks<C> {
  /// The connection object for an accepted socket.
  readonly connection: (socket: Socket, kind: ListenerKind) => C
  readonly opened: (remote: string, kind: ListenerKind) => void
  readonly closed: (remote: string, kind: ListenerKind) => void
  /// Closed at accept: past maxConnections, while the whole server drains, or made to a drained
  /// local address.
  readonly refused: (remote: string) => void
  /// Closed at accept by `admit`.
  readonly denied?: (remote: string) => void
}

interface Listener { readonly server: Server, readonly kind: ListenerKind, readonly port?: number }

export class ConnectionListeners<C extends ServedConnection> {
  readonly #options: ListenerOptions
  readonly #hooks: ListenerHooks<C>
  readonly #listeners: Listener[] = []
  readonly #connections = new Set<C>()
  #draining = false
  /// Local addresses drained one by one (cluster instances' virtual addresses) until resumed.
  readonly #drainedAt = new Set<string>()
  #closing: Promise<void> | undefined

  constructor (options: ListenerOptions, hooks: ListenerHooks<C>) {
    this.#options = options
    this.#hooks = hooks
    const make = (kind: ListenerKind, port?: number): Listener =>
      ({ server: createServer({ allowHalfOpen: options.allowHalfOpen ?? false, noDelay: true }, s => { this.#accept(s, kind) }), kind, ...(port === undefined ? {} : { port }) })
    if (options.port !== undefined) for (const port of new Set([options.port, ...(options.extraPorts ?? [])])) this.#listeners.push(make('tcp', port))
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
    const mode = this.#options.socketMode
    if (l.kind === 'unix' && socket !== undefined && mode !== undefined) await chmod(socket, mode)
  }

  /// Stops taking work: connections finish what they started and close. With `local`: only the
  /// connections made to that address (whose new connections the cluster already sends elsewhere);
  /// one the kernel accepted before the cluster moved its bucket is closed at accept, so the drain
  /// is not held open by a session that started after it.
  drain (local?: string): void {
    if (local === undefined) this.#draining = true
    else this.#drainedAt.add(local)
    for (const c of this.#connections) if (local === undefined || c.local === local) c.drain()
  }

  /// Takes work again: on `local` only, or everywhere. Either ends a drain of the whole server (as
  /// `node online --instance NAME` after a whole-node drain brings that instance's port back);
  /// other addresses drained one by one stay drained.
  resume (local?: string): void {
    this.#draining = false
    if (local === undefined) this.#drainedAt.clear()
    else this.#drainedAt.delete(local)
  }

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

  #accept (socket: Socket, kind: ListenerKind): void {
    const remote = kind === 'unix' ? 'unix' : socket.remoteAddress ?? '-'
    const admit = this.#options.admit
    if (kind === 'tcp' && admit !== undefined && !admit(remote)) {
      // Closed synchronously in the accept callback, before a byte is read.
      socket.destroy()
      this.#hooks.denied?.(remote)
      return
    }
    if (this.#connections.size >= this.#options.maxConnections || this.#draining || (kind === 'tcp' && this.#drainedAt.has(localOf(socket)))) {
      this.#hooks.refused(remote)
      socket.destroy()
      return
    }
    const conn = this.#hooks.connection(socket, kind)
    this.#connections.add(conn)
    this.#hooks.opened(remote, kind)
    socket.once('close', () => {
      this.#connections.delete(conn)
      this.#hooks.closed(remote, kind)
    })
  }
}

/// The events every listening server reports (its own event map adds the rest).
export interface ListenerEvents {
  open: [{ readonly remote: string, readonly listener: ListenerKind }]
  close: [{ readonly remote: string, readonly listener: ListenerKind }]
  refused: [{ readonly remote: string }]
}

/// How a server's connections report events: the server's own `emit`, untyped here.
export type Emit = (event: string, ...args: unknown[]) => void

/// A protocol server on these listeners: the subclass says how a connection is made (given the
/// server's emit, for the connection's own events); the rest is here.
export abstract class ListeningServer<C extends ServedConnection, E extends ListenerEvents & Record<keyof E, unknown[]>> extends EventEmitter<E> {
  readonly #listeners: ConnectionListeners<C>

  protected constructor (options: ListenerOptions, connection: (emit: Emit) => (socket: Socket, kind: ListenerKind) => C) {
    super()
    const emit: Emit = (event, ...args) => { (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args) }
    this.#listeners = new ConnectionListeners(options, {
      connection: connection(emit),
      opened: (remote, listener) => { emit('open', { remote, listener }) },
      closed: (remote, listener) => { emit('close', { remote, listener }) },
      refused: remote => { emit('refused', { remote }) },
      denied: remote => { emit('denied', { remote }) },
    })
  }

  /// The main TCP address once listening (port 0 becomes the real port here).
  get address (): AddressInfo | undefined { return this.#listeners.address }

  get connections (): number { return this.#listeners.connections }

  /// Connections made to one local address (a cluster instance's virtual address).
  connectionsAt (local: string): number { return this.#listeners.connectionsAt(local) }

  async listen (): Promise<AddressInfo | undefined> { return await this.#listeners.listen() }

  /// Stops taking work: connections finish what they started and close. With `local`: only the
  /// connections made to that address (whose new connections the cluster already sends elsewhere).
  drain (local?: string): void { this.#listeners.drain(local) }

  /// Takes work again: on `local` only, or everywhere.
  resume (local?: string): void { this.#listeners.resume(local) }

  /// Stops listening, lets connections finish for up to graceMs, then closes the rest.
  async close (graceMs: number): Promise<void> { await this.#listeners.close(graceMs) }
}

/// The local address a TCP client connected to, IPv4-mapped addresses as plain IPv4 (as the
/// cluster names its virtual addresses).
export function localOf (socket: Socket): string {
  const local = socket.localAddress ?? '-'
  return local.startsWith('::ffff:') ? local.slice(7) : local
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
