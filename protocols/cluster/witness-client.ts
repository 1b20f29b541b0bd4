/// The node's side of the witness (issue #17 item 2): asks for the witness's vote for the current
/// partition of one cluster instance, and says which partition holds a valid grant now. A grant is
/// valid from the reply until `sent + leaseMs`, counted from when the ask left this node: the
/// witness counts its lease from when the ask arrived, so the node's view always ends first and the
/// witness never gives the vote to another partition while this node still relies on it.
/// Asks are fire-and-forget UDP: the caller asks every heartbeat interval and at once when its
/// partition changes; a lost ask or reply just leaves the previous grant to expire.
import { createSocket, type Socket } from 'node:dgram'
import { randomBytes } from 'node:crypto'
import { decodeWitness, encodeWitness } from './witness-messages.js'
import type { Endpoint } from './transport.js'

export interface WitnessClientOptions {
  readonly witness: Endpoint
  readonly key: Buffer
  readonly cluster: string
  readonly node: string
  readonly voters: number
  /// Local address to send from (the service or heartbeat address), port 0 for any.
  readonly bind?: Endpoint | undefined
}

export interface WitnessStatus {
  /// The partition this node's last answer said holds the vote ([] when none or unknown).
  readonly holder: readonly string[]
  /// This node holds a valid grant for `grant()` (undefined otherwise).
  readonly granted: boolean
  /// ms since the last answer; undefined when never answered (witness down or unreachable).
  readonly lastAnswerMs: number | undefined
  readonly reason: string
}

/// Outstanding asks kept for matching answers: a few intervals' worth; older ones are forgotten.
const maxOutstanding = 16

export class WitnessClient {
  readonly #o: WitnessClientOptions
  readonly #socket: Socket
  readonly #boot = randomBytes(8).toString('hex')
  readonly #bootTs = Date.now()
  readonly #outstanding = new Map<number, { sent: number, partition: readonly string[] }>()
  #seq = 0
  #grant: { partition: readonly string[], until: number } | undefined
  #holder: readonly string[] = []
  #reason = 'not asked yet'
  #lastAnswer: number | undefined

  constructor (options: WitnessClientOptions) {
    this.#o = options
    this.#socket = createSocket('udp4')
    this.#socket.on('message', buf => this.#receive(buf))
  }

  async start (): Promise<void> {
    const bind = this.#o.bind ?? { host: '0.0.0.0', port: 0 }
    await new Promise<void>((resolve, reject) => {
      this.#socket.once('error', reject)
      this.#socket.bind(bind.port, bind.host, () => { this.#socket.off('error', reject); resolve() })
    })
  }

  /// Ask for the vote for `partition` (sorted ids, this node included).
  ask (partition: readonly string[], now: number = performance.now()): void {
    const seq = ++this.#seq
    this.#outstanding.set(seq, { sent: now, partition: [...partition] })
    if (this.#outstanding.size > maxOutstanding) this.#outstanding.delete(this.#outstanding.keys().next().value ?? seq)
    const datagram = encodeWitness({ v: 1, type: 'witness-ask', cluster: this.#o.cluster, node: this.#o.node, boot: this.#boot, bootTs: this.#bootTs, seq, ts: Date.now(), partition: [...partition], voters: this.#o.voters }, this.#o.key)
    this.#socket.send(datagram, this.#o.witness.port, this.#o.witness.host, () => {})
  }

  /// The partition this node may count the witness's vote for now, or undefined.
  grant (now: number = performance.now()): readonly string[] | undefined {
    if (this.#grant === undefined || now >= this.#grant.until) return undefined
    return this.#grant.partition
  }

  status (now: number = performance.now()): WitnessStatus {
    return { holder: this.#holder, granted: this.grant(now) !== undefined, lastAnswerMs: this.#lastAnswer === undefined ? undefined : Math.round(now - this.#lastAnswer), reason: this.#reason }
  }

  #receive (datagram: Buffer): void {
    const decoded = decodeWitness(datagram, this.#o.key)
    if (!decoded.ok || decoded.message.type !== 'witness-reply') return
    const reply = decoded.message
    if (reply.cluster !== this.#o.cluster || reply.node !== this.#o.node || reply.boot !== this.#boot) return
    const asked = this.#outstanding.get(reply.seq)
    if (asked === undefined) return
    this.#outstanding.delete(reply.seq)
    const now = performance.now()
    this.#lastAnswer = now
    this.#holder = reply.holder
    this.#reason = reply.reason
    const same = reply.holder.length === asked.partition.length && reply.holder.every((id, i) => id === asked.partition[i])
    if (reply.granted && same) {
      const until = asked.sent + reply.leaseMs
      // An answer to an older ask must not shorten or replace a newer grant.
      if (this.#grant === undefined || until > this.#grant.until) this.#grant = { partition: asked.partition, until }
    } else if (this.#grant !== undefined && !reply.granted) {
      // The witness now votes for someone else: stop relying on the old grant at once.
      this.#grant = undefined
    }
  }

  async close (): Promise<void> {
    await new Promise<void>(resolve => this.#socket.close(() => resolve()))
  }
}
