/// The data-plane safety net of issue #17 item 4, from the maps: a node compares the buckets its
/// filter accepts with what each peer's latest heartbeat claims. Agents take a bucket only when no
/// heard peer claims it, and claims include a bucket from the moment its filter might accept it
/// (agent.ts), so an overlap is never a normal hand-over: it is two owners, typically a node that
/// reappears after a partition with a map of its own. Exactly one side of each overlap steps back,
/// decided the same way on both nodes from what both can see:
///  1. a quorate node keeps the bucket against one that is not (the minority is the one in error);
///  2. both quorate and on the same map version (so both read the same map): its owner keeps it;
///  3. otherwise (neither, or the map names neither) the higher node id steps back.
/// A node that steps back releases those buckets at once; the caller logs each overlap and raises
/// the SNMP notification (phase 2: swClusterDuplicateOwner).
/// Pure: no clocks, no I/O.

export interface OwnerClaim {
  readonly id: string
  /// The buckets it claims (self: what its filter accepts or is about to).
  readonly buckets: Iterable<number>
  readonly quorate: boolean
  /// The version of the bucket map it works from (heartbeats carry it).
  readonly mapVersion: number
}

export interface Overlap {
  readonly peer: string
  readonly buckets: readonly number[]
  /// Which side releases them.
  readonly stepsBack: 'self' | 'peer'
  readonly rule: 'quorum' | 'map' | 'node-id'
}

export interface DuplicateReport {
  readonly overlaps: readonly Overlap[]
  /// Buckets this node must release now (union of the overlaps it loses).
  readonly release: readonly number[]
}

/// `mapOwner(b)`: who this node's current map gives bucket b to (undefined when it has no map entry).
export function findDuplicates (self: OwnerClaim, peers: readonly OwnerClaim[], mapOwner: (bucket: number) => string | undefined): DuplicateReport {
  const mine = new Set(self.buckets)
  const overlaps: Overlap[] = []
  const release = new Set<number>()
  for (const peer of peers) {
    if (peer.id === self.id) continue
    const shared = [...new Set(peer.buckets)].filter(b => mine.has(b)).sort((a, b) => a - b)
    if (shared.length === 0) continue
    const byQuorum = self.quorate !== peer.quorate
    // Rules 2 and 3 are per bucket: group the shared buckets by the side that keeps each.
    const groups = new Map<string, number[]>()
    for (const b of shared) {
      let verdict: { stepsBack: 'self' | 'peer', rule: Overlap['rule'] }
      if (byQuorum) verdict = { stepsBack: self.quorate ? 'peer' : 'self', rule: 'quorum' }
      else {
        // The map decides only when both read the same one; otherwise each side could name itself.
        const owner = self.quorate && self.mapVersion === peer.mapVersion ? mapOwner(b) : undefined
        if (owner === self.id) verdict = { stepsBack: 'peer', rule: 'map' }
        else if (owner === peer.id) verdict = { stepsBack: 'self', rule: 'map' }
        else verdict = { stepsBack: self.id > peer.id ? 'self' : 'peer', rule: 'node-id' }
      }
      const key = `${verdict.stepsBack}/${verdict.rule}`
      groups.set(key, [...(groups.get(key) ?? []), b])
    }
    for (const [key, buckets] of groups) {
      const [stepsBack, rule] = key.split('/') as ['self' | 'peer', Overlap['rule']]
      overlaps.push({ peer: peer.id, buckets, stepsBack, rule })
      if (stepsBack === 'self') for (const b of buckets) release.add(b)
    }
  }
  return { overlaps, release: [...release].sort((a, b) => a - b) }
}
