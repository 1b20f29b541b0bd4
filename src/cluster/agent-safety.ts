/// The agent's two data-plane safety nets (issue #17 item 4), applied to the ownership it is about
/// to install: (1) duplicate owners seen in peers' heartbeats: release the buckets of each overlap
/// this node loses (duplicates.ts, decided through the quorum gate); (2) foreign answers seen by the
/// kernel (reset-guard.ts): for a while, keep only the home share (the map over every member known
/// online), and when resets go on, also give up the home buckets they are for. Each finding is
/// logged and emitted (→ SNMP).
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

/// After stepping back to its home share, how long resets must go on before this node also yields
/// the home buckets it still sends resets for. Only then is it clear that the other owner does not
/// step back (it wins every race, or is no cluster member): if both sides yielded at once, a bucket
/// could end with no owner.
const yieldAfterMs = 2000

interface HomeOnly { readonly since: number, until: number, readonly map: number, readonly yielded: Set<number> }

export class SafetyNets {
  readonly #cluster: string
  readonly #self: string
  readonly #buckets: number
  readonly #log: Logger
  readonly #events: SafetyEvents
  /// The overlaps logged last (each is logged once, not on every check while it lasts).
  #overlapsKey = ''
  /// On the kernel's word: keep only the home share from `since` until `until` (monotonic ms), and
  /// give up `yielded` home buckets too. All of it holds under the map it began with: a new map (a
  /// peer came back, or left) is a new situation, so buckets are taken again (never while a heard
  /// peer claims them: handover.ts).
  #homeOnly: HomeOnly | undefined

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
    const h = this.#current(f)
    if (h === undefined) return
    const home = this.#homeShare(f)
    for (const b of next) if (!home.has(b) || h.yielded.has(b)) next.delete(b)
  }

  #current (f: OwnershipFacts): HomeOnly | undefined {
    const h = this.#homeOnly
    if (h !== undefined && (f.now >= h.until || f.map.version !== h.map)) this.#homeOnly = undefined
    return this.#homeOnly
  }

  /// The kernel reset check spoke about `resetting` buckets (the caller reconciles). First report:
  /// step back to the home share. Reports after yieldAfterMs more: yield the home buckets still reset.
  foreignAnswers (perSecond: number, sinceMs: number, resetting: readonly number[], holdMs: number, f: OwnershipFacts): void {
    const home = this.#homeShare(f)
    let h = this.#current(f)
    let released: number[]
    if (h === undefined) {
      h = { since: f.now, until: f.now + holdMs, map: f.map.version, yielded: new Set() }
      released = [...f.claims].filter(b => !home.has(b))
    } else {
      h.until = f.now + holdMs
      released = f.now - h.since < yieldAfterMs ? [] : resetting.filter(b => f.claims.has(b) && home.has(b))
      for (const b of released) h.yielded.add(b)
    }
    this.#homeOnly = h
    const what = h.since === f.now ? `back to our home share (${released.length} buckets given up)` : released.length > 0 ? `the other owner does not step back: yielding ${released.length} of our home buckets` : 'already on our home share'
    this.#log.warn({ cluster: this.#cluster, perSecond, sinceMs, resetting: resetting.length, released: released.length, holdMs }, `foreign resets: another host answers for ${resetting.length} of our buckets; ${what}`)
    this.#events.foreign({ perSecond, sinceMs, resetting: [...resetting], released: released.sort((a, b) => a - b), holdMs })
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
