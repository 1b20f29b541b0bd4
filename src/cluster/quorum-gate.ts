/// The agent's side of issue #17: feeds heartbeats into Membership (membership.ts), evaluates it on
/// every check, and says what the agent may do with its buckets (serve / hold / fence). It logs every
/// change of partition or action with the reason (warn when the node stops serving), binds the votes
/// derived from peer addresses to the node ids heard there, and runs the duplicate-owner check
/// (duplicates.ts) over the peers' claims. Kept apart from agent.ts so the agent only asks.
import { Membership, describeMembership, type Action, type MembershipSnapshot, type PeerMembership } from './membership.js'
import { samePartition } from './quorum.js'
import { findDuplicates, type Overlap } from './duplicates.js'
import type { PeerBeat, WitnessVote, WitnessVoteStatus } from './types.js'
import type { PathChange } from './agent-types.js'
import type { Logger } from '../log.js'

export interface QuorumGateOptions {
  readonly cluster: string
  readonly self: string
  /// Node ids, or `@host:port` for a vote known only by the peer's heartbeat address.
  readonly voters: readonly string[]
  readonly suspectMs: number
  readonly deadMs: number
  readonly graceMs: number
  readonly waitForAll: boolean
  readonly stallMs: number
  /// Heartbeat path names, `service` first (the path whose peer addresses the derived votes name).
  readonly paths: readonly string[]
}

/// The single heartbeat path of a node without `paths` (the existing bind/peers socket).
export const servicePath = 'service'

export interface QuorumStatus {
  readonly state: string
  readonly action: Action
  readonly partition: readonly string[]
  readonly votes: number
  readonly expected: number
  readonly needed: number
  readonly settled: boolean
  readonly reason: string
  /// describeMembership(): the reason, then each peer that is not fully heard and why.
  readonly lines: readonly string[]
  /// Every voting peer: heard, hears us, in our partition, and each heartbeat path's state.
  readonly peers: readonly PeerMembership[]
  /// Absent without a witness.
  readonly witness?: WitnessVoteStatus
}

/// Heartbeat paths of peers that went up or down between two snapshots. A path never heard before
/// coming up is not a change (start-up would send one per peer and path); one never heard stays down.
export function pathChanges (before: readonly PeerMembership[], after: readonly PeerMembership[]): PathChange[] {
  const was = new Map(before.flatMap(p => p.paths.map(x => [`${p.id}\u0000${x.path}`, x] as const)))
  const changes: PathChange[] = []
  for (const peer of after) {
    for (const path of peer.paths) {
      const old = was.get(`${peer.id}\u0000${path.path}`)
      if (old === undefined || old.up === path.up || (path.up && old.silentMs === undefined)) continue
      changes.push({ peer: peer.id, path: path.path, up: path.up, silentMs: path.silentMs })
    }
  }
  return changes
}

export class QuorumGate {
  readonly #o: QuorumGateOptions
  readonly #log: Logger
  readonly #membership: Membership
  #snap: MembershipSnapshot
  #lastKey = ''
  #pathChanges: readonly PathChange[] = []

  readonly #witness: WitnessVote | undefined

  constructor (options: QuorumGateOptions, log: Logger, now: number, witness?: WitnessVote) {
    this.#o = options
    this.#log = log
    this.#witness = witness
    this.#membership = new Membership({ self: options.self, voters: options.voters, paths: options.paths, suspectMs: options.suspectMs, deadMs: options.deadMs, graceMs: options.graceMs, waitForAll: options.waitForAll, stallMs: options.stallMs }, now)
    this.#snap = this.#membership.evaluate(now)
  }

  get snapshot (): MembershipSnapshot { return this.#snap }
  get action (): Action { return this.#snap.action }
  /// The heartbeat paths that went up or down at the last evaluate().
  get pathChanges (): readonly PathChange[] { return this.#pathChanges }

  inPartition (id: string): boolean { return this.#snap.decision.partition.includes(id) }

  /// A validated heartbeat of a peer (the first copy), from `from` (host:port of its socket).
  heard (beat: PeerBeat, from: string | undefined, now: number, path = servicePath): void {
    this.arrived(beat.node, path, from, now)
    if (beat.membership !== undefined) this.#membership.report(beat.node, beat.membership)
  }

  /// Any copy of a peer's heartbeat on `path`. A vote derived from a `service` peer address is bound
  /// to the node heard from that address.
  arrived (node: string, path: string, from: string | undefined, now: number): void {
    const placeholder = `@${from ?? ''}`
    if (path === servicePath && from !== undefined && this.#membership.voters.includes(placeholder) && !this.#membership.voters.includes(node)) {
      this.#membership.bindVoter(placeholder, node)
      this.#log.info({ cluster: this.#o.cluster, peer: node, address: from }, 'quorum: the vote of this peer address is this node')
    }
    this.#membership.arrived(node, path, now)
  }

  /// Renews the witness's vote for our partition (every heartbeat interval; its lease runs out otherwise).
  askWitness (): void { this.#witness?.ask(this.#snap.decision.partition) }

  takeoverReady (now: number): boolean { return this.#membership.takeoverReady(now) }

  /// Re-evaluates; true when the partition or the action changed (the agent then beats at once).
  evaluate (now: number): boolean {
    const before = this.#snap
    this.#membership.witness(this.#witness?.grant())
    this.#snap = this.#membership.evaluate(now)
    const d = this.#snap.decision
    this.#pathChanges = pathChanges(before.peers, this.#snap.peers)
    for (const c of this.#pathChanges) {
      const fields = { cluster: this.#o.cluster, peer: c.peer, path: c.path, silentMs: c.silentMs }
      if (c.up) this.#log.info(fields, 'heartbeat path up')
      else this.#log.warn(fields, 'heartbeat path down')
    }
    // A new partition asks at once: on an exact half the witness's answer decides within graceMs.
    if (!samePartition(before.decision.partition, d.partition)) this.#witness?.ask(d.partition)
    const key = `${this.#snap.action} ${d.state} ${d.partition.join(',')} ${String(d.settled)}`
    if (key === this.#lastKey) return false
    this.#lastKey = key
    const lines = describeMembership(this.#snap)
    const fields = { cluster: this.#o.cluster, action: this.#snap.action, quorum: d.state, partition: d.partition, votes: d.votes, expected: d.expected, detail: lines }
    if (before.action === 'serve' && this.#snap.action !== 'serve') this.#log.warn(fields, `quorum: ${this.#snap.action} (${d.reason})`)
    else this.#log.info(fields, `quorum: ${this.#snap.action} (${d.reason})`)
    return !samePartition(before.decision.partition, d.partition) || before.action !== this.#snap.action
  }

  /// Duplicate owners: buckets this node claims that a heard peer claims too. Returns the overlaps
  /// (each logged by the caller) and the buckets this node must release now.
  duplicates (self: { buckets: Iterable<number>, mapVersion: number }, peers: ReadonlyArray<{ beat: PeerBeat, claims: readonly number[] }>, mapOwner: (b: number) => string | undefined): { overlaps: readonly Overlap[], release: readonly number[] } {
    const claims = peers.map(p => ({ id: p.beat.node, buckets: p.claims, quorate: p.beat.membership?.quorate ?? false, mapVersion: p.beat.mapVersion }))
    return findDuplicates({ id: this.#o.self, buckets: self.buckets, quorate: this.#snap.action !== 'fence', mapVersion: self.mapVersion }, claims, mapOwner)
  }

  status (): QuorumStatus {
    const d = this.#snap.decision
    return { state: d.state, action: this.#snap.action, partition: d.partition, votes: d.votes, expected: d.expected, needed: d.needed, settled: d.settled, reason: d.reason, lines: describeMembership(this.#snap), peers: this.#snap.peers, ...(this.#witness === undefined ? {} : { witness: this.#witness.status() }) }
  }
}
