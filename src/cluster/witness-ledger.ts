/// The witness's one decision (issue #17 item 2): to which partition of a cluster it lends its vote.
/// A tie-breaker that is real in production must never vote for two partitions at once, so it holds
/// at most one grant per cluster, a lease renewed while that partition keeps asking:
///  - nobody holds a live grant: the asker gets it (the side that asks first wins an even split);
///  - the holder asks again (same member set): the lease is renewed;
///  - a strict subset of the holder asks: the grant moves to it at once. This is the 2-node cluster
///    losing a node: the survivor's partition {a} is a subset of the whole {a,b} that held the vote,
///    so it keeps quorum without waiting out the lease. Two disjoint halves of the holder cannot both
///    get it: after the first moves the grant, the second is no subset of the new holder;
///  - anything else waits until the holder stops asking and its lease runs out.
/// After the witness starts it grants nothing for one lease: a restarted witness has forgotten the
/// grant it gave, and nodes may still rely on it until their lease (counted from before they asked,
/// so always shorter than the witness's own) runs out.
/// Pure: time is passed in (monotonic ms).

export interface WitnessAnswer {
  readonly granted: boolean
  /// The partition holding the vote after this request ([] when none).
  readonly holder: readonly string[]
  readonly leaseMs: number
  readonly reason: 'granted' | 'renewed' | 'moved' | 'held' | 'starting'
}

interface Grant { members: readonly string[], expiresAt: number }

function canonical (members: readonly string[]): string[] {
  return [...new Set(members)].sort()
}

export class WitnessLedger {
  readonly #leaseMs: number
  readonly #quietUntil: number
  readonly #grants = new Map<string, Grant>()

  constructor (leaseMs: number, startedAt: number) {
    this.#leaseMs = leaseMs
    this.#quietUntil = startedAt + leaseMs
  }

  ask (cluster: string, partition: readonly string[], now: number): WitnessAnswer {
    const members = canonical(partition)
    const lease = this.#leaseMs
    if (now < this.#quietUntil) return { granted: false, holder: [], leaseMs: lease, reason: 'starting' }
    const grant = this.#grants.get(cluster)
    const live = grant !== undefined && grant.expiresAt > now
    const held = new Set(grant?.members ?? [])
    let reason: WitnessAnswer['reason']
    if (!live) reason = 'granted'
    else if (members.length === held.size && members.every(m => held.has(m))) reason = 'renewed'
    else if (members.length < held.size && members.every(m => held.has(m))) reason = 'moved'
    else return { granted: false, holder: grant.members, leaseMs: lease, reason: 'held' }
    this.#grants.set(cluster, { members, expiresAt: now + lease })
    return { granted: true, holder: members, leaseMs: lease, reason }
  }

  /// Every cluster's current holder, for the witness's own log and status.
  holders (now: number): Record<string, { members: readonly string[], expiresInMs: number }> {
    const out: Record<string, { members: readonly string[], expiresInMs: number }> = {}
    for (const [cluster, g] of this.#grants) if (g.expiresAt > now) out[cluster] = { members: g.members, expiresInMs: g.expiresAt - now }
    return out
  }
}
