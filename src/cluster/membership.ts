/// Membership of one cluster instance over time: when each peer was last heard on each heartbeat
/// path, the membership fields of its latest heartbeat, and from them (quorum.ts) this node's
/// partition and quorum. It owns the three deadlines of issue #17:
///  - suspectMs: a peer silent on every path this long is no longer heard (it leaves our `heard`
///    set and our partition, so a node on the other side of a cut learns it is not counted);
///  - graceMs: after losing quorum, how long the node keeps (but does not add to) its buckets while
///    a witness answer may still restore it; then it must release everything (`fence`);
///  - deadMs: a peer outside our partition this long may have its buckets taken (`takeoverReady`).
/// quorum.checkTiming() makes sure a fenced node has released before deadMs.
/// Time is passed in (monotonic ms), so every rule is tested without timers.
import { decideQuorum, samePartition, type MembershipReport, type QuorumDecision } from './quorum.js'

export interface MembershipOptions {
  readonly self: string
  readonly voters: readonly string[]
  readonly paths: readonly string[]
  readonly suspectMs: number
  readonly deadMs: number
  readonly graceMs: number
  /// wait_for_all (quorum.ts); false lets a lone node with a witness grant start serving.
  readonly waitForAll: boolean
  /// An evaluation later than this after the previous one means this process stalled (GC, a busy
  /// CPU): the peers' heartbeats wait unread in the socket, so nobody is dropped on that evaluation.
  readonly stallMs: number
}

/// What the node should do with its buckets now.
///  - serve: quorate and settled: keep, and take what the map gives once `takeoverReady`;
///  - hold: keep what it has, take nothing (unsettled, or within graceMs of losing quorum);
///  - fence: release every bucket and accept no new connection (established ones stay).
export type Action = 'serve' | 'hold' | 'fence'

export interface PathStatus {
  readonly path: string
  /// ms since a heartbeat of this peer arrived on this path; undefined when never.
  readonly silentMs: number | undefined
  readonly up: boolean
}

export interface PeerMembership {
  readonly id: string
  readonly heard: boolean
  /// It hears this node (its latest heartbeat lists us).
  readonly hearsUs: boolean
  readonly inPartition: boolean
  readonly paths: readonly PathStatus[]
  /// ms since it left our partition (or since start when never in it); 0 while in it.
  readonly outsideMs: number
}

export interface MembershipSnapshot {
  readonly decision: QuorumDecision
  readonly action: Action
  readonly peers: readonly PeerMembership[]
  /// Our own membership fields for the next heartbeat.
  readonly report: MembershipReport
}

interface PeerRecord {
  readonly lastHeard: Map<string, number>
  report: MembershipReport | undefined
  /// Since when it has been outside our partition; undefined while inside.
  outsideSince: number | undefined
}

export class Membership {
  #o: MembershipOptions
  readonly #peers = new Map<string, PeerRecord>()
  readonly #startedAt: number
  #waitedForAll = false
  #lastEval: number
  #heard = new Set<string>()
  #partition: readonly string[]
  #quorateAt: number | undefined
  #lostAt: number | undefined
  /// The last evaluation that found the partition quorate (quorum cannot have been lost before it).
  #lastQuorateEval: number | undefined
  #witness: readonly string[] | undefined

  constructor (options: MembershipOptions, now: number) {
    this.#o = options
    this.#startedAt = now
    this.#lastEval = now
    this.#partition = [options.self]
    for (const id of options.voters) if (id !== options.self) this.#peer(id)
  }

  #peer (id: string): PeerRecord {
    let record = this.#peers.get(id)
    if (record === undefined) {
      record = { lastHeard: new Map(), report: undefined, outsideSince: this.#startedAt }
      this.#peers.set(id, record)
    }
    return record
  }

  /// A voter known so far only by its heartbeat address (`@host:port`, config/cluster.ts derives
  /// those from the peers) turned out to be node `id`: from now on that vote is `id`'s.
  bindVoter (placeholder: string, id: string): void {
    const voters = this.#o.voters.map(v => v === placeholder ? id : v)
    if (voters.includes(id) && !this.#o.voters.includes(id)) {
      this.#o = { ...this.#o, voters }
      this.#peers.delete(placeholder)
      this.#peer(id)
    }
  }

  get voters (): readonly string[] { return this.#o.voters }

  /// A heartbeat of `peer` arrived on `path` (every copy, also the duplicates of other paths).
  arrived (peer: string, path: string, now: number): void {
    if (peer === this.#o.self) return
    this.#peer(peer).lastHeard.set(path, now)
  }

  /// The membership fields of a peer's newest heartbeat (once per heartbeat, after deduplication).
  report (peer: string, report: MembershipReport): void {
    if (peer === this.#o.self) return
    this.#peer(peer).report = report
  }

  /// The witness's current grant for this instance (witness-client.ts), or undefined.
  witness (grant: readonly string[] | undefined): void {
    this.#witness = grant
  }

  get partition (): readonly string[] { return this.#partition }

  /// The buckets of peers outside our partition may be taken: each is either heard (its heartbeats
  /// show what it still claims, and agent.ts never takes a claimed bucket) or silent on every path
  /// for deadMs (so it has fenced itself: quorum.checkTiming).
  takeoverReady (now: number): boolean {
    const inside = new Set(this.#partition)
    for (const [id, record] of this.#peers) {
      if (inside.has(id) || this.#heard.has(id)) continue
      if (now - Math.max(this.#startedAt, ...record.lastHeard.values()) < this.#o.deadMs) return false
    }
    return true
  }

  evaluate (now: number): MembershipSnapshot {
    const stalled = now - this.#lastEval > this.#o.stallMs
    this.#lastEval = now
    const heard = new Set<string>()
    for (const [id, record] of this.#peers) {
      const last = Math.max(-Infinity, ...record.lastHeard.values())
      // After a stall, keep whom we heard before: their beats are in the socket buffer, unread.
      if (now - last <= this.#o.suspectMs || (stalled && this.#heard.has(id))) heard.add(id)
    }
    this.#heard = heard
    const reports = new Map<string, MembershipReport>()
    for (const id of heard) {
      const report = this.#peers.get(id)?.report
      if (report !== undefined) reports.set(id, report)
    }
    const decision = decideQuorum({ self: this.#o.self, voters: this.#o.voters, hears: heard, reports, witnessGrant: this.#witness, waitedForAll: this.#waitedForAll || !this.#o.waitForAll })
    this.#waitedForAll ||= decision.waitedForAll
    if (!samePartition(decision.partition, this.#partition)) this.#partition = decision.partition
    const inside = new Set(decision.partition)
    for (const [id, record] of this.#peers) {
      if (inside.has(id)) record.outsideSince = undefined
      else record.outsideSince ??= now
    }
    return { decision, action: this.#action(decision, now), peers: this.#peerRows(now, inside), report: this.#report(decision) }
  }

  /// When quorum was lost, as well as this node can tell: the latest moment a peer we no longer hear
  /// crossed suspectMs of silence, but not before the last quorate evaluation nor after now. A node
  /// that stalled (GC, a starved CPU) between losing quorum and noticing it must not start its grace
  /// only then: its peers count the failure deadline from the last heartbeat they heard, so its
  /// release would come after their take-over (two owners; seen once in the multicast bed at load 12).
  #lostSince (now: number): number {
    let latest = -Infinity
    for (const [id, record] of this.#peers) {
      if (this.#heard.has(id) || record.lastHeard.size === 0) continue
      latest = Math.max(latest, Math.max(...record.lastHeard.values()) + this.#o.suspectMs)
    }
    return Math.min(now, Math.max(latest, this.#lastQuorateEval ?? now))
  }

  #action (decision: QuorumDecision, now: number): Action {
    if (decision.state === 'quorate') {
      this.#quorateAt ??= now
      this.#lostAt = undefined
      this.#lastQuorateEval = now
      return decision.settled ? 'serve' : 'hold'
    }
    if (this.#quorateAt === undefined) return 'fence'
    // Quorum lost: hold for graceMs from then (a witness answer for the smaller partition may be on its way).
    this.#lostAt ??= this.#lostSince(now)
    if (now - this.#lostAt < this.#o.graceMs) return 'hold'
    this.#quorateAt = undefined
    this.#lostAt = undefined
    return 'fence'
  }

  #report (decision: QuorumDecision): MembershipReport {
    const heard: Record<string, string[]> = {}
    for (const id of this.#heard) {
      const record = this.#peers.get(id)
      const paths = [...(record?.lastHeard.entries() ?? [])].filter(([, t]) => this.#lastEval - t <= this.#o.suspectMs).map(([p]) => p).sort()
      heard[id] = paths
    }
    return { heard, partition: decision.partition, quorate: decision.state === 'quorate' }
  }

  #peerRows (now: number, inside: ReadonlySet<string>): PeerMembership[] {
    return [...this.#peers].sort(([a], [b]) => a < b ? -1 : 1).map(([id, record]) => ({
      id,
      heard: this.#heard.has(id),
      hearsUs: record.report !== undefined && this.#heard.has(id) && Object.hasOwn(record.report.heard, this.#o.self),
      inPartition: inside.has(id),
      paths: this.#o.paths.map(path => {
        const t = record.lastHeard.get(path)
        const silentMs = t === undefined ? undefined : Math.round(now - t)
        return { path, silentMs, up: silentMs !== undefined && silentMs <= this.#o.suspectMs }
      }),
      outsideMs: record.outsideSince === undefined ? 0 : Math.round(now - record.outsideSince),
    }))
  }
}

/// Human lines for logs and `cluster status`: the quorum reason, then every path that is down.
export function describeMembership (snapshot: MembershipSnapshot): string[] {
  const lines = [snapshot.decision.reason]
  for (const peer of snapshot.peers) {
    const down = peer.paths.filter(p => !p.up)
    if (down.length === 0 && peer.hearsUs) continue
    const parts = down.map(p => `path ${p.path} silent ${p.silentMs === undefined ? 'since start' : `${p.silentMs} ms`}`)
    if (peer.heard && !peer.hearsUs) parts.push('heard, but it does not hear us (one-way cut)')
    if (!peer.heard) parts.push('not heard on any path')
    lines.push(`${peer.id}: ${parts.join('; ')}`)
  }
  return lines
}
