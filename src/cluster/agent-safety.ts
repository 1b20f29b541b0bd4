/// The agent's two data-plane safety nets (issue #17 item 4), applied to the ownership it is about
/// to install: (1) duplicate owners seen in peers' heartbeats: release the buckets of each overlap
/// this node loses (duplicates.ts, decided through the quorum gate); (2) foreign answers seen by the
/// kernel (reset-guard.ts): for a while, keep only the home share, the buckets the map over every
/// member known online would give this node. Each finding is logged once and emitted (→ SNMP).
import { computeBuckets, bucketsOf, type BucketMap, type Member } from './buckets.js'
import { fromBitmap } from './bitmap.js'
import type { QuorumGate } from './quorum-gate.js'
import type { Overlap } from './duplicates.js'
import type { ForeignAnswers } from './reset-guard.js'
import type { PeerView } from './agent-types.js'
import type { Logger } from '../log.js'

export interface SafetyEvents {
  duplicate (overlap: Overlap): void
  foreign (answers: ForeignAnswers): void
}

/// What the nets read from the agent at the moment they run.
export interface OwnershipFacts {
  readonly claims: ReadonlySet<number>
  readonly peers: ReadonlyMap<string, PeerView>
  readonly map: BucketMap
  readonly weight: number
  readonly now: number
}

export class SafetyNets {
  readonly #cluster: string
  readonly #self: string
  readonly #buckets: number
  readonly #log: Logger
  readonly #events: SafetyEvents
  /// The overlaps logged last (each is logged once, not on every check while it lasts).
  #overlapsKey = ''
  /// Until when (monotonic ms) this node keeps to its home share.
  #homeOnlyUntil = 0

  constructor (cluster: string, self: string, buckets: number, log: Logger, events: SafetyEvents) {
    this.#cluster = cluster
    this.#self = self
    this.#buckets = buckets
    this.#log = log
    this.#events = events
  }

  /// Removes from `next` what the nets forbid now.
  restrict (next: Set<number>, gate: QuorumGate | undefined, f: OwnershipFacts): void {
    for (const b of this.#duplicates(gate, f)) next.delete(b)
    if (f.now < this.#homeOnlyUntil) {
      const home = this.#homeShare(f)
      for (const b of next) if (!home.has(b)) next.delete(b)
    }
  }

  /// The kernel reset check spoke: keep to the home share for `holdMs` (the caller reconciles).
  foreignAnswers (perSecond: number, sinceMs: number, holdMs: number, f: OwnershipFacts): void {
    const home = this.#homeShare(f)
    const released = [...f.claims].filter(b => !home.has(b)).sort((a, b) => a - b)
    this.#homeOnlyUntil = f.now + holdMs
    this.#log.warn({ cluster: this.#cluster, perSecond, sinceMs, released: released.length, holdMs }, released.length > 0
      ? 'foreign resets: another host answers for our buckets; stepping back to our home share'
      : 'foreign resets: another host answers for our buckets, but we hold only our home share')
    this.#events.foreign({ perSecond, sinceMs, released, holdMs })
  }

  /// The map over this node and every peer whose last heartbeat said online (failed or outside our
  /// partition too, at its last weight): this node's share when nobody has failed.
  #homeShare (f: OwnershipFacts): Set<number> {
    const members: Member[] = [{ id: this.#self, weight: f.weight }]
    for (const [id, peer] of f.peers) if (peer.beat.state === 'online') members.push({ id, weight: peer.beat.weight })
    return new Set(bucketsOf(computeBuckets(members, this.#buckets), this.#self))
  }

  /// Buckets a heard peer claims too, of which this node is the side that gives way (quorum only).
  #duplicates (gate: QuorumGate | undefined, f: OwnershipFacts): readonly number[] {
    if (gate === undefined) return []
    const peers = [...f.peers.values()].filter(p => !p.failed).map(p => ({ beat: p.beat, claims: fromBitmap(p.beat.owned) }))
    const found = gate.duplicates({ buckets: f.claims, mapVersion: f.map.version }, peers, b => f.map.owners[b])
    const key = JSON.stringify(found.overlaps)
    if (key !== this.#overlapsKey) {
      this.#overlapsKey = key
      for (const o of found.overlaps) {
        this.#log.warn({ cluster: this.#cluster, peer: o.peer, buckets: o.buckets, stepsBack: o.stepsBack === 'self' ? this.#self : o.peer, rule: o.rule }, 'duplicate bucket owners: one side steps back')
        this.#events.duplicate(o)
      }
    }
    return found.release
  }
}
