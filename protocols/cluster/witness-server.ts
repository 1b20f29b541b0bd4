/// The witness process's UDP side: one socket, asks in, answers out (`scanwall witness`,
/// src/cli/witness.ts). Every ask is authenticated with the key of the cluster it names (several
/// clusters may share one witness, each with its own key), checked for replay and clock skew, and
/// answered by the ledger. Anything else is counted and dropped; the process stays up.
import { createSocket, type Socket } from 'node:dgram'
import { EventEmitter } from 'node:events'
import { decodeWitness, encodeWitness, type WitnessAsk } from './witness-messages.js'
import { ReplayWindow } from './replay.js'
import { WitnessLedger, type WitnessAnswer } from '../../src/cluster/witness-ledger.js'
import type { Endpoint } from './transport.js'

export interface WitnessServerOptions {
  readonly listen: Endpoint
  /// The cluster key (one key for every cluster this witness serves, as the nodes share one).
  readonly key: Buffer
  readonly leaseMs: number
  readonly maxSkewMs: number
}

export type WitnessReject = 'decode' | 'type' | 'skew' | 'replay'

export interface WitnessServerEvents {
  answer: [WitnessAsk, WitnessAnswer, Endpoint]
  rejected: [WitnessReject, Endpoint, string]
}

export class WitnessServer extends EventEmitter<WitnessServerEvents> {
  readonly #o: WitnessServerOptions
  readonly #socket: Socket
  readonly #ledger: WitnessLedger
  readonly #replay = new ReplayWindow()
  readonly rejects = new Map<WitnessReject, number>()

  constructor (options: WitnessServerOptions) {
    super()
    this.#o = options
    this.#ledger = new WitnessLedger(options.leaseMs, performance.now())
    this.#socket = createSocket('udp4')
    this.#socket.on('message', (buf, rinfo) => this.#receive(buf, { host: rinfo.address, port: rinfo.port }))
  }

  async start (): Promise<Endpoint> {
    await new Promise<void>((resolve, reject) => {
      this.#socket.once('error', reject)
      this.#socket.bind(this.#o.listen.port, this.#o.listen.host, () => { this.#socket.off('error', reject); resolve() })
    })
    const a = this.#socket.address()
    return { host: a.address, port: a.port }
  }

  holders (): ReturnType<WitnessLedger['holders']> { return this.#ledger.holders(performance.now()) }

  #reject (reason: WitnessReject, from: Endpoint, detail: string): void {
    this.rejects.set(reason, (this.rejects.get(reason) ?? 0) + 1)
    this.emit('rejected', reason, from, detail)
  }

  #receive (datagram: Buffer, from: Endpoint): void {
    const decoded = decodeWitness(datagram, this.#o.key)
    if (!decoded.ok) return this.#reject('decode', from, decoded.reason)
    const ask = decoded.message
    if (ask.type !== 'witness-ask') return this.#reject('type', from, ask.type)
    if (Math.abs(Date.now() - ask.ts) > this.#o.maxSkewMs) return this.#reject('skew', from, ask.node)
    if (!this.#replay.accept(`${ask.cluster}\u0000${ask.node}`, ask)) return this.#reject('replay', from, ask.node)
    const answer = this.#ledger.ask(ask.cluster, ask.partition, performance.now())
    this.emit('answer', ask, answer, from)
    const reply = encodeWitness({ v: 1, type: 'witness-reply', cluster: ask.cluster, node: ask.node, boot: ask.boot, seq: ask.seq, ts: Date.now(), granted: answer.granted, holder: answer.holder, leaseMs: answer.leaseMs, reason: answer.reason }, this.#o.key)
    this.#socket.send(reply, from.port, from.host, () => {})
  }

  async close (): Promise<void> {
    await new Promise<void>(resolve => this.#socket.close(() => resolve()))
  }
}
