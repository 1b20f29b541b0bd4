/// The cluster agent of one cluster instance: the membership state machine. It sends heartbeats,
/// declares peers failed after `missed` silent intervals, computes the same bucket map as every other
/// agent (buckets.ts), and drives its kernel filter break-before-make (handover.ts): a bucket it loses
/// is released at once and the release announced in a heartbeat as soon as the filter has applied
/// it; a bucket it gains is taken as soon as no live peer still claims it. Everything is driven by
/// events (a heartbeat in, a filter change done); the timers only send periodic heartbeats and
/// detect silent peers. With quorum (issue #17, quorum-gate.ts) the map is computed over this node's
/// partition only, a node outside a quorate partition releases everything (`fence`) or takes nothing
/// (`hold`), and a bucket a peer claims too is given up when the duplicate rule says so.
import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import { computeBuckets, bucketsOf, type BucketMap, type Member } from './buckets.js'
import { WeightGovernor } from './weight.js'
import { fromBitmap, toBitmap } from './bitmap.js'
import { nextOwnership, noteReleases } from './handover.js'
import { QuorumGate, servicePath, type QuorumStatus } from './quorum-gate.js'
import type { Overlap } from './duplicates.js'
import type { LocalFacts, NodeState, OwnershipSink, PeerBeat, LoadSample, WitnessVote } from './types.js'
import type { Logger } from '../log.js'

export interface AgentOptions {
  readonly cluster: string
  readonly nodeId: string
  readonly buckets: number
  readonly capacity: number
  readonly intervalMs: number
  readonly missed: number
  readonly joinMs: number
  readonly loadWeighting: boolean
  /// Time constant of the load smoothing, and least time between two weight changes (weight.ts).
  readonly loadSmoothingMs: number
  readonly weightHoldMs: number
  readonly configVersion: string
  /// Issue #17; undefined: no quorum (every node takes what its map gives it, as before).
  readonly quorum?: { readonly voters: readonly string[], readonly suspectMs: number, readonly graceMs: number, readonly waitForAll: boolean, readonly paths?: readonly string[] } | undefined
}

/// How often the local load is sampled (smoothed over loadSmoothingMs, so the rate only sets the noise).
const loadSampleMs = 250

export interface PeerView {
  readonly beat: PeerBeat
  /// Local monotonic time (ms) the last heartbeat arrived.
  readonly seenAt: number
  readonly failed: boolean
  /// Where its heartbeats come from (host:port), when the channel says.
  readonly address: string | undefined
}

export interface NodeStatus {
  readonly id: string
  readonly self: boolean
  readonly state: NodeState
  readonly weight: number
  readonly capacity: number
  /// Buckets the map gives it / buckets its filter accepts now.
  readonly mapped: number
  readonly owned: number
  readonly load: LoadSample
  readonly connections: number
  readonly lastHeartbeatMs: number
  readonly mapVersion: number
  readonly signatureVersion: string
  readonly configVersion: string
  readonly healthy: boolean
  readonly failing: readonly string[]
  /// A peer's heartbeat address (host:port); undefined for this node and when unknown.
  readonly address?: string
}

export interface AgentEvents {
  state: [NodeState, NodeState]
  'peer-failed': [string]
  'peer-up': [string]
  owned: [readonly number[]]
  /// The partition or the quorum action changed.
  quorum: [QuorumStatus]
  /// This node or a peer claimed a bucket the other claims too; `stepsBack` says which side gave it up.
  duplicate: [Overlap]
}

function now (): number { return performance.now() }

export class ClusterAgent extends EventEmitter<AgentEvents> {
  readonly #o: AgentOptions
  readonly #sink: OwnershipSink
  readonly #facts: LocalFacts
  readonly #send: (beat: PeerBeat) => void
  readonly #log: Logger
  readonly #peers = new Map<string, PeerView>()
  /// bucket → the peer whose heartbeat last dropped its claim (handover.ts: the drain's fast path).
  readonly #releasedBy = new Map<number, string>()
  readonly #boot = randomBytes(8).toString('hex')
  readonly #bootTs = Date.now()
  #seq = 0
  #state: NodeState = 'joining'
  #admin: 'online' | 'offline' = 'online'
  #healthy = true
  #failing: readonly string[] = []
  #drained = false
  readonly #governor: WeightGovernor
  #map: BucketMap = { version: 0, owners: [] }
  #mapKey = '\u0000'
  #owned = new Set<number>()
  #applying: Promise<void> | undefined
  /// The ownership being applied to the filter right now.
  #pending: Set<number> | undefined
  #dirty = false
  #timers: NodeJS.Timeout[] = []
  #startedAt = 0
  #lastTick = 0
  readonly #checkMs: number
  #stopped = false
  readonly #gate: QuorumGate | undefined
  /// The overlaps logged last (each is logged once, not on every check while it lasts).
  #overlapsKey = ''

  constructor (options: AgentOptions, deps: { sink: OwnershipSink, facts: LocalFacts, send: (beat: PeerBeat) => void, log: Logger, witness?: WitnessVote | undefined }) {
    super()
    this.#o = options
    this.#sink = deps.sink
    this.#facts = deps.facts
    this.#send = deps.send
    this.#log = deps.log
    this.#governor = new WeightGovernor({ capacity: options.capacity, quanta: 4, hysteresis: 0.3, floor: 0.25, smoothingMs: options.loadSmoothingMs, holdMs: options.weightHoldMs })
    this.#checkMs = Math.max(5, Math.floor(options.intervalMs / 4))
    const q = options.quorum
    this.#gate = q === undefined
      ? undefined
      : new QuorumGate({ cluster: options.cluster, self: options.nodeId, voters: q.voters, suspectMs: q.suspectMs, deadMs: options.intervalMs * options.missed, graceMs: q.graceMs, waitForAll: q.waitForAll, stallMs: this.#checkMs * 3, paths: q.paths ?? [servicePath] }, deps.log, now(), deps.witness)
  }

  /// This instance's quorum as `cluster status` shows it; undefined without quorum.
  quorumStatus (): QuorumStatus | undefined { return this.#gate?.status() }

  get state (): NodeState { return this.#state }
  get owned (): readonly number[] { return [...this.#owned].sort((a, b) => a - b) }
  get map (): BucketMap { return this.#map }

  start (): void {
    this.#startedAt = now()
    this.#beat()
    this.#timers.push(setInterval(() => { this.#beat(); this.#gate?.askWitness() }, this.#o.intervalMs))
    // Failure checks run four times per interval so detection lags the deadline by at most a quarter.
    this.#lastTick = now()
    this.#timers.push(setInterval(() => this.#tick(), this.#checkMs))
    this.#timers.push(setInterval(() => this.#sampleLoad(), loadSampleMs))
  }

  /// A validated, authenticated, non-replayed heartbeat from a peer.
  receive (beat: PeerBeat, from?: string, path?: string): void {
    if (this.#stopped) return
    const previous = this.#peers.get(beat.node)
    noteReleases(this.#releasedBy, beat.node, previous?.beat.owned, beat.owned)
    this.#peers.set(beat.node, { beat, seenAt: now(), failed: false, address: from ?? previous?.address })
    this.#gate?.heard(beat, from ?? previous?.address, now(), path)
    if (previous === undefined || previous.failed) {
      this.#log.info({ cluster: this.#o.cluster, peer: beat.node, state: beat.state }, 'cluster peer up')
      this.emit('peer-up', beat.node)
    }
    this.#reconcile()
  }

  /// A copy of a peer's heartbeat arrived on `path` (every copy; the first is also `receive`d).
  arrived (node: string, path: string, from: string): void {
    if (!this.#stopped) this.#gate?.arrived(node, path, from, now())
  }

  /// Operator or health: take this node out (buckets go to the others) or bring it back.
  setAdmin (admin: 'online' | 'offline'): void {
    this.#admin = admin
    if (admin === 'online') this.#drained = false
    this.#reconcile()
  }

  setHealth (healthy: boolean, failing: readonly string[]): void {
    if (healthy !== this.#healthy) this.#log.warn({ cluster: this.#o.cluster, healthy, failing }, healthy ? 'health passing: node back in' : 'health failing: node out')
    this.#healthy = healthy
    this.#failing = failing
    this.#reconcile()
  }

  /// The kernel filter lost every bucket behind our back (its nft process died): start from nothing,
  /// so peers see the release and the filter is rebuilt by the next apply.
  ownershipLost (): void {
    this.#owned = new Set()
    this.#beat()
    this.#reconcile()
  }

  /// The drain coordinator reports that no connection is left: draining becomes offline.
  markDrained (): void {
    this.#drained = true
    this.#reconcile()
  }

  #desiredState (): NodeState {
    if (this.#stopped) return 'offline'
    if (now() - this.#startedAt < this.#o.joinMs) return 'joining'
    if (this.#admin === 'offline') return this.#drained ? 'offline' : 'draining'
    return this.#healthy ? 'online' : 'offline'
  }

  #sampleLoad (): void {
    const from = this.#governor.sample(this.#facts.load(), now(), this.#o.loadWeighting)
    if (from === undefined) return
    this.#log.info({ cluster: this.#o.cluster, from, to: this.#governor.weight, load: this.#governor.load }, 'advertised weight changed')
    this.#reconcile()
  }

  #tick (): void {
    const deadline = this.#o.intervalMs * this.#o.missed
    const t = now()
    // A late tick means this process was stalled (GC, start-up, a busy CPU), not that the peers
    // were silent: their heartbeats wait in the socket buffer and are read after the timers of this
    // loop turn. Skip this check so a stalled observer never declares healthy peers failed.
    const late = t - this.#lastTick > this.#checkMs * 3
    this.#lastTick = t
    // Membership has its own stall rule (it keeps whom it heard), so it is evaluated on every check.
    if (this.#gate?.evaluate(t) === true) {
      const status = this.#gate.status()
      this.emit('quorum', status)
      this.#reconcile()
      // Peers learn at once that we hear them (or not): their partitions depend on it.
      this.#beat()
    }
    if (late) return
    for (const [id, peer] of this.#peers) {
      if (!peer.failed && t - peer.seenAt > deadline) {
        this.#peers.set(id, { ...peer, failed: true })
        this.#log.warn({ cluster: this.#o.cluster, peer: id, silentMs: Math.round(t - peer.seenAt) }, 'cluster peer failed')
        this.emit('peer-failed', id)
      }
    }
    this.#reconcile()
  }

  #members (): Member[] {
    const members: Member[] = []
    const gate = this.#gate
    if (this.#state === 'online' && gate?.action !== 'fence') members.push({ id: this.#o.nodeId, weight: this.#governor.weight })
    for (const [id, peer] of this.#peers) {
      if (gate !== undefined && !gate.inPartition(id)) continue
      if (!peer.failed && peer.beat.state === 'online') members.push({ id, weight: peer.beat.weight })
    }
    return members
  }

  /// Recomputes state and map, and moves the filter toward the map, break-before-make.
  #reconcile (): void {
    const state = this.#desiredState()
    if (state !== this.#state) {
      const from = this.#state
      this.#state = state
      this.#log.info({ cluster: this.#o.cluster, from, to: state }, 'cluster state')
      this.emit('state', from, state)
    }
    // The map is a pure function of the members: recompute only when they change (the check runs
    // many times a second and the rendezvous draws are hashes).
    const members = this.#members()
    const key = members.map(m => `${m.id}=${m.weight}`).sort().join(',')
    let announce = false
    if (key !== this.#mapKey) {
      const version = this.#map.version
      this.#map = computeBuckets(members, this.#o.buckets)
      this.#mapKey = key
      // Peers take the buckets a new map gives them only once every live node reports that map:
      // say it now rather than at the next interval (after a failure this saves up to one interval).
      announce = this.#map.version !== version
    }
    this.#reconcileOwnership(state)
    if (announce) this.#beat()
  }

  #reconcileOwnership (state: NodeState): void {
    const desired = new Set(state === 'online' ? bucketsOf(this.#map, this.#o.nodeId) : [])
    const gate = this.#gate
    const peers = [...this.#peers].map(([id, p]) => ({ id, failed: p.failed, outside: gate !== undefined && !gate.inPartition(id), mapVersion: p.beat.mapVersion, owned: p.beat.owned }))
    let next: Set<number>
    const action = gate?.action ?? 'serve'
    if (action === 'fence') next = new Set()
    else if (action === 'hold' || (gate !== undefined && !gate.takeoverReady(now()))) next = new Set([...this.#owned].filter(b => desired.has(b)))
    else next = nextOwnership(this.#owned, desired, this.#map.version, peers, this.#releasedBy)
    for (const b of this.#stepBack()) next.delete(b)
    if (next.size === this.#owned.size && [...next].every(b => this.#owned.has(b))) return
    this.#apply(next)
  }

  /// The data-plane safety net (issue #17 item 4): buckets a heard peer claims too, of which this node
  /// is the side that gives way (duplicates.ts). Each new overlap is logged and emitted (→ SNMP).
  #stepBack (): readonly number[] {
    const gate = this.#gate
    if (gate === undefined) return []
    const mine = this.#pending === undefined ? this.#owned : new Set([...this.#owned, ...this.#pending])
    const peers = [...this.#peers.values()].filter(p => !p.failed).map(p => ({ beat: p.beat, claims: fromBitmap(p.beat.owned) }))
    const found = gate.duplicates({ buckets: mine, mapVersion: this.#map.version }, peers, b => this.#map.owners[b])
    const key = JSON.stringify(found.overlaps)
    if (key !== this.#overlapsKey) {
      this.#overlapsKey = key
      for (const o of found.overlaps) {
        this.#log.warn({ cluster: this.#o.cluster, peer: o.peer, buckets: o.buckets, stepsBack: o.stepsBack === 'self' ? this.#o.nodeId : o.peer, rule: o.rule }, 'duplicate bucket owners: one side steps back')
        this.emit('duplicate', o)
      }
    }
    return found.release
  }

  #apply (next: Set<number>): void {
    if (this.#applying !== undefined) {
      this.#dirty = true
      return
    }
    const list = [...next].sort((a, b) => a - b)
    this.#pending = next
    const started = now()
    this.#applying = this.#sink.apply(list).then(() => {
      const gained = list.filter(b => !this.#owned.has(b)).length
      const released = [...this.#owned].filter(b => !next.has(b)).length
      this.#log.info({ cluster: this.#o.cluster, gained, released, owned: list.length, applyMs: Math.round(now() - started) }, 'bucket filter applied')
      this.#owned = next
      this.emit('owned', list)
      // Tell the peers at once: a released bucket may be taken without waiting for the next beat.
      this.#beat()
    }, (err: unknown) => {
      this.#log.error({ err, cluster: this.#o.cluster }, 'applying the bucket filter failed')
    }).finally(() => {
      this.#applying = undefined
      this.#pending = undefined
      if (this.#dirty) {
        this.#dirty = false
        this.#reconcile()
      }
    })
  }

  #beat (): void {
    if (this.#stopped) return
    this.#send(this.#heartbeat())
  }

  #heartbeat (): PeerBeat {
    // While the filter is being changed, claim what it may already accept too: a bucket being taken
    // is claimed from the moment the kernel could accept it, so no peer takes it in that gap.
    const claims = this.#pending === undefined ? this.#owned : new Set([...this.#owned, ...this.#pending])
    const owned = toBitmap(claims, this.#o.buckets)
    return {
      v: 1,
      type: 'heartbeat',
      cluster: this.#o.cluster,
      node: this.#o.nodeId,
      boot: this.#boot,
      bootTs: this.#bootTs,
      seq: ++this.#seq,
      ts: Date.now(),
      state: this.#state,
      capacity: this.#o.capacity,
      weight: this.#governor.weight,
      load: this.#governor.load,
      mapVersion: this.#map.version,
      owned,
      signatureVersion: this.#facts.signatureVersion(),
      configVersion: this.#o.configVersion,
      healthy: this.#healthy,
      failing: this.#failing,
      connections: this.#facts.connections(),
      ...(this.#gate === undefined ? {} : { membership: this.#gate.snapshot.report }),
    }
  }

  status (): NodeStatus[] {
    const count = (id: string): number => this.#map.owners.filter(o => o === id).length
    const t = now()
    const self = this.#heartbeat()
    const rows: NodeStatus[] = [{ ...this.#row(self, true, count(this.#o.nodeId)), owned: this.#owned.size, lastHeartbeatMs: 0 }]
    for (const [id, peer] of this.#peers) {
      rows.push({ ...this.#row(peer.beat, false, count(id)), state: peer.failed ? 'failed' : peer.beat.state, lastHeartbeatMs: Math.round(t - peer.seenAt), ...(peer.address === undefined ? {} : { address: peer.address }) })
    }
    return rows.sort((a, b) => a.id < b.id ? -1 : 1)
  }

  #row (beat: PeerBeat, self: boolean, mapped: number): NodeStatus {
    const owned = fromBitmap(beat.owned).length
    return {
      id: beat.node,
      self,
      state: beat.state,
      weight: beat.weight,
      capacity: beat.capacity,
      mapped,
      owned,
      load: beat.load,
      connections: beat.connections,
      lastHeartbeatMs: 0,
      mapVersion: beat.mapVersion,
      signatureVersion: beat.signatureVersion,
      configVersion: beat.configVersion,
      healthy: beat.healthy,
      failing: beat.failing,
    }
  }

  /// Leaves the cluster: releases every bucket, says so in a last heartbeat, stops the timers.
  async stop (): Promise<void> {
    for (const t of this.#timers) clearInterval(t)
    this.#timers = []
    this.#state = 'offline'
    await this.#applying
    await this.#sink.apply([]).catch(() => {})
    this.#owned.clear()
    // The last heartbeat carries the map without this node, so survivors agree with it at once and
    // take its buckets without waiting for the failure deadline.
    this.#map = computeBuckets(this.#members(), this.#o.buckets)
    this.#mapKey = '\u0000' // recompute on the next reconcile
    this.#send(this.#heartbeat())
    this.#stopped = true
  }
}
