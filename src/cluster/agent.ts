/// The cluster agent of one cluster instance: the membership state machine. It sends heartbeats,
/// declares peers failed after `missed` silent intervals, computes the same bucket map as every other
/// agent (buckets.ts), and drives its kernel filter break-before-make (handover.ts, agent-filter.ts):
/// a bucket it loses is released at once and the release announced in a heartbeat as soon as the
/// filter has applied it; a bucket it gains is taken as soon as no live peer still claims it.
/// Everything is driven by events (a heartbeat in, a filter change done); the timers only send
/// periodic heartbeats and detect silent peers. With quorum (issue #17, quorum-gate.ts) the map is
/// computed over this node's partition only, a node outside a quorate partition releases everything
/// (`fence`) or takes nothing (`hold`), and a bucket a peer claims too is given up when the duplicate
/// rule says so; when the kernel sees another host answer for its buckets it gives those up for a
/// while (agent-safety.ts). Shapes: agent-types.ts; heartbeat and status rows: agent-report.ts.
import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import { computeBuckets, bucketsOf, type BucketMap, type Member } from './buckets.js'
import { SafetyNets, type OwnershipFacts } from './agent-safety.js'
import { WeightGovernor } from './weight.js'
import { nextOwnership, noteReleases } from './handover.js'
import { QuorumGate, servicePath, type QuorumStatus } from './quorum-gate.js'
import { FilterWriter } from './agent-filter.js'
import { heartbeat, statusRows } from './agent-report.js'
import type { AgentEvents, AgentOptions, NodeStatus, PeerView } from './agent-types.js'
import type { LocalFacts, NodeState, OwnershipSink, PeerBeat, WitnessVote } from './types.js'
import type { Logger } from '../log.js'

export type { AgentEvents, AgentOptions, NodeStatus, PeerView, PathChange } from './agent-types.js'

/// How often the local load is sampled (smoothed over loadSmoothingMs, so the rate only sets the noise).
const loadSampleMs = 250

function now (): number { return performance.now() }

export class ClusterAgent extends EventEmitter<AgentEvents> {
  readonly #o: AgentOptions
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
  readonly #filter: FilterWriter
  #timers: NodeJS.Timeout[] = []
  #startedAt = 0
  #lastTick = 0
  readonly #checkMs: number
  #stopped = false
  readonly #gate: QuorumGate | undefined
  readonly #safety: SafetyNets

  constructor (options: AgentOptions, deps: { sink: OwnershipSink, facts: LocalFacts, send: (beat: PeerBeat) => void, log: Logger, witness?: WitnessVote | undefined }) {
    super()
    this.#o = options
    this.#facts = deps.facts
    this.#send = deps.send
    this.#log = deps.log
    this.#governor = new WeightGovernor({ capacity: options.capacity, quanta: 4, hysteresis: 0.3, floor: 0.25, smoothingMs: options.loadSmoothingMs, holdMs: options.weightHoldMs })
    this.#checkMs = Math.max(5, Math.floor(options.intervalMs / 4))
    this.#filter = new FilterWriter(deps.sink, {
      applied: list => {
        this.emit('owned', list)
        // Tell the peers at once: a released bucket may be taken without waiting for the next beat.
        this.#beat()
      },
      again: () => this.#reconcile(),
    }, deps.log, options.cluster)
    this.#safety = new SafetyNets(options.cluster, options.nodeId, options.buckets, deps.log, {
      duplicate: o => this.emit('duplicate', o),
      foreign: f => this.emit('foreign-answers', f),
    })
    const q = options.quorum
    this.#gate = q === undefined
      ? undefined
      : new QuorumGate({ cluster: options.cluster, self: options.nodeId, voters: q.voters, suspectMs: q.suspectMs, deadMs: options.intervalMs * options.missed, graceMs: q.graceMs, waitForAll: q.waitForAll, stallMs: this.#checkMs * 3, paths: q.paths ?? [servicePath] }, deps.log, now(), deps.witness)
  }

  /// This instance's quorum as `cluster status` shows it; undefined without quorum.
  quorumStatus (): QuorumStatus | undefined { return this.#gate?.status() }

  get state (): NodeState { return this.#state }
  get owned (): readonly number[] { return [...this.#filter.owned].sort((a, b) => a - b) }
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
    // A restarted peer (new boot) is news too: one that stopped cleanly was never marked failed.
    if (previous === undefined || previous.failed || previous.beat.boot !== beat.boot) {
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
    this.#filter.lost()
    this.#beat()
    this.#reconcile()
  }

  /// The drain coordinator reports that no connection is left: draining becomes offline.
  markDrained (): void {
    this.#drained = true
    this.#reconcile()
  }

  /// The kernel reset check (reset-guard.ts): another host answers for `resetting` buckets.
  /// Give those up for `holdMs` (agent-safety.ts).
  foreignAnswers (perSecond: number, sinceMs: number, resetting: readonly number[], holdMs: number): void {
    if (this.#stopped) return
    this.#safety.foreignAnswers(perSecond, sinceMs, resetting, holdMs, this.#ownershipFacts())
    this.#reconcile()
  }

  #ownershipFacts (): OwnershipFacts {
    return { claims: this.#filter.claims, peers: this.#peers, map: this.#map, weight: this.#governor.weight, now: now() }
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
    const gate = this.#gate
    if (gate !== undefined) {
      const changed = gate.evaluate(t)
      for (const change of gate.pathChanges) this.emit('path', change)
      if (changed) {
        this.emit('quorum', gate.status())
        this.#reconcile()
        // Peers learn at once that we hear them (or not): their partitions depend on it.
        this.#beat()
      }
    }
    if (late) return
    for (const [id, peer] of this.#peers) {
      // A peer whose last word was 'offline' (a clean stop or a finished drain) said goodbye: its
      // silence is expected, so it stays offline rather than raising a failure.
      if (!peer.failed && peer.beat.state !== 'offline' && t - peer.seenAt > deadline) {
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
    const owned = this.#filter.owned
    const peers = [...this.#peers].map(([id, p]) => ({ id, failed: p.failed, outside: gate !== undefined && !gate.inPartition(id), mapVersion: p.beat.mapVersion, owned: p.beat.owned }))
    let next: Set<number>
    const action = gate?.action ?? 'serve'
    if (action === 'fence') next = new Set()
    else if (action === 'hold' || (gate !== undefined && !gate.takeoverReady(now()))) next = new Set([...owned].filter(b => desired.has(b)))
    else next = nextOwnership(new Set(owned), desired, this.#map.version, peers, this.#releasedBy)
    this.#safety.restrict(next, gate, this.#ownershipFacts())
    if (next.size === owned.size && [...next].every(b => owned.has(b))) return
    this.#filter.apply(next)
  }

  #beat (): void {
    if (this.#stopped) return
    this.#send(this.#heartbeat())
  }

  #heartbeat (): PeerBeat {
    const o = this.#o
    return heartbeat({
      cluster: o.cluster,
      node: o.nodeId,
      boot: this.#boot,
      bootTs: this.#bootTs,
      seq: ++this.#seq,
      state: this.#state,
      capacity: o.capacity,
      weight: this.#governor.weight,
      load: this.#governor.load,
      mapVersion: this.#map.version,
      claims: this.#filter.claims,
      buckets: o.buckets,
      configVersion: o.configVersion,
      healthy: this.#healthy,
      failing: this.#failing,
      membership: this.#gate?.snapshot.report,
    }, this.#facts)
  }

  status (): NodeStatus[] {
    return statusRows(this.#heartbeat(), this.#filter.owned.size, this.#peers, this.#map, now())
  }

  /// Leaves the cluster: releases every bucket, says so in a last heartbeat, stops the timers.
  async stop (): Promise<void> {
    for (const t of this.#timers) clearInterval(t)
    this.#timers = []
    // Stopped from here on, not after the release: a peer's heartbeat received while the release is
    // awaited would otherwise reconcile this node back to 'online', and the goodbye below would say
    // so (the survivors then marked it failed instead of offline).
    this.#stopped = true
    this.#state = 'offline'
    await this.#filter.releaseAll()
    // The last heartbeat carries the map without this node, so survivors agree with it at once and
    // take its buckets without waiting for the failure deadline.
    this.#map = computeBuckets(this.#members(), this.#o.buckets)
    this.#mapKey = '\u0000' // recompute on the next reconcile
    this.#send(this.#heartbeat())
  }
}
