/// The whole cluster as the console shows it: one read or change goes to this node directly and to
/// every peer over the signed peer channel (peer.ts), in parallel; each node answers for itself
/// (a node that does not answer is listed with its error). A change meant for another node is
/// carried to that node, which makes it, logs it and stores its event there.
import type { Actor, LocalNode, Operation } from './local.js'
import { PeerClient, runCall, type PeerCall } from './peer.js'
import type { FromNode } from './types.js'
import { ConsoleError } from './errors.js'

export class ClusterConsole {
  readonly #local: LocalNode
  readonly #peers: PeerClient | undefined

  constructor (local: LocalNode, peers: PeerClient | undefined) {
    this.#local = local
    this.#peers = peers
  }

  get self (): string { return this.#local.id }

  #peerList (): Array<{ id: string, host: string }> {
    return this.#peers === undefined ? [] : PeerClient.peers(this.#local.members())
  }

  /// This node's answer first, then the peers' in node id order.
  async gather<T> (call: PeerCall): Promise<Array<FromNode<T>>> {
    const own = runCall(this.#local, call).then(data => ({ node: this.self, ok: true as const, data: data as T }), (err: unknown) => ({ node: this.self, ok: false as const, error: err instanceof Error ? err.message : String(err) }))
    const peers = this.#peerList().sort((a, b) => a.id.localeCompare(b.id))
    const others = peers.map(async p => await this.#peers!.call(p, call) as FromNode<T>)
    return [await own, ...await Promise.all(others)]
  }

  /// Runs `call` on one node (this one or a peer); a peer's failure is an error here.
  async on<T> (node: string, call: PeerCall): Promise<T> {
    if (node === this.self) return await runCall(this.#local, call) as T
    const peer = this.#peerList().find(p => p.id === node)
    if (peer === undefined) throw new ConsoleError(404, `no node '${node}' in this node's cluster view`)
    const answer = await this.#peers!.call(peer, call)
    if (!answer.ok) throw new ConsoleError(502, `node ${node}: ${answer.error}`)
    return answer.data as T
  }

  async apply (node: string, operation: Operation, actor: Actor): Promise<unknown> {
    return await this.on(node, { op: 'apply', operation, actor })
  }
}
