/// Authenticated heartbeat transport over UDP: sends to a unicast peer list (and optionally a
/// multicast group), receives, verifies the MAC, validates, and rejects replays. Replay safety:
/// per sender, a boot (random id + start time) may only be replaced by a later boot, and within a
/// boot seq must grow; every message must also be within maxSkewMs of the local clock.
import { createSocket, type Socket } from 'node:dgram'
import { EventEmitter } from 'node:events'
import { decode, encode } from './codec.js'
import { ReplayWindow } from './replay.js'
import type { ClusterMessage } from './messages.js'

export interface Endpoint { readonly host: string, readonly port: number }

export interface TransportOptions {
  readonly bind: Endpoint
  readonly peers: readonly Endpoint[]
  readonly multicast?: Endpoint | undefined
  readonly key: Buffer
  readonly cluster: string
  readonly selfId: string
  readonly maxSkewMs: number
}

export type RejectReason = 'short' | 'magic' | 'version' | 'mac' | 'payload' | 'schema' | 'cluster' | 'self' | 'skew' | 'replay'

export interface TransportEvents {
  message: [ClusterMessage, Endpoint]
  rejected: [RejectReason, Endpoint]
}

export class HeartbeatTransport extends EventEmitter<TransportEvents> {
  readonly #options: TransportOptions
  readonly #socket: Socket
  readonly #replay = new ReplayWindow()
  readonly rejects = new Map<RejectReason, number>()

  constructor (options: TransportOptions) {
    super()
    this.#options = options
    this.#socket = createSocket({ type: 'udp4', reuseAddr: options.multicast !== undefined })
    this.#socket.on('message', (buf, rinfo) => this.#receive(buf, { host: rinfo.address, port: rinfo.port }))
  }

  async start (): Promise<Endpoint> {
    const { bind, multicast } = this.#options
    await new Promise<void>((resolve, reject) => {
      this.#socket.once('error', reject)
      // With multicast the socket binds the group's port on all addresses so group traffic arrives.
      const host = multicast === undefined ? bind.host : '0.0.0.0'
      this.#socket.bind(bind.port, host, () => { this.#socket.off('error', reject); resolve() })
    })
    if (multicast !== undefined) {
      this.#socket.addMembership(multicast.host, bind.host === '0.0.0.0' ? undefined : bind.host)
      if (bind.host !== '0.0.0.0') this.#socket.setMulticastInterface(bind.host)
      this.#socket.setMulticastLoopback(false)
    }
    const address = this.#socket.address()
    return { host: address.address, port: address.port }
  }

  send (message: ClusterMessage): void {
    const datagram = encode(message, this.#options.key)
    const targets = [...this.#options.peers, ...(this.#options.multicast === undefined ? [] : [this.#options.multicast])]
    // Fire and forget: a lost heartbeat is what the missed-heartbeat count is for.
    for (const t of targets) this.#socket.send(datagram, t.port, t.host, () => {})
  }

  /// One datagram to one endpoint (tests, and peers learned at run time).
  sendTo (message: ClusterMessage, target: Endpoint): void {
    this.#socket.send(encode(message, this.#options.key), target.port, target.host, () => {})
  }

  #reject (reason: RejectReason, from: Endpoint): void {
    this.rejects.set(reason, (this.rejects.get(reason) ?? 0) + 1)
    this.emit('rejected', reason, from)
  }

  #receive (datagram: Buffer, from: Endpoint): void {
    const decoded = decode(datagram, this.#options.key)
    if (!decoded.ok) return this.#reject(decoded.reason, from)
    const m = decoded.message
    if (m.cluster !== this.#options.cluster) return this.#reject('cluster', from)
    if (m.node === this.#options.selfId) return this.#reject('self', from)
    if (Math.abs(Date.now() - m.ts) > this.#options.maxSkewMs) return this.#reject('skew', from)
    if (!this.#replay.accept(m.node, m)) return this.#reject('replay', from)
    this.emit('message', m, from)
  }

  async close (): Promise<void> {
    await new Promise<void>(resolve => this.#socket.close(() => resolve()))
  }
}
