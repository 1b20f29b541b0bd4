/// Bucket hand-over, the one place that decides which buckets this node's filter accepts next.
/// Releasing never waits. Taking is break-before-make: a bucket is taken only when no live peer
/// claims it in its last heartbeat. A peer announces each filter change at once (the heartbeat that
/// follows it is its release notice), so a taker installs as soon as the owner has removed; a lost
/// notice is repaired by the next periodic heartbeat. Rules about who may take at all (e.g. a
/// majority) belong in mayTake().
import { fromBitmap } from './bitmap.js'

/// What the hand-over needs to know of a peer: its last heartbeat, and whether it was judged failed.
export interface PeerClaim {
  readonly id: string
  readonly failed: boolean
  /// Heard, but outside this node's partition (issue #17): its claims still block taking a bucket,
  /// but its map has no say (it is not a member of the map we share with our partition).
  readonly outside?: boolean
  readonly mapVersion: number
  /// Bitmap of the buckets its filter accepts (or may accept: a change in progress claims both).
  readonly owned: Uint8Array
}

/// May this node take `bucket` (which no live peer claims) now? With quorum (issue #17) the agent
/// asks only while its partition is quorate and settled (`serve`) and every peer outside it is
/// either heard (its claims count) or silent for the failure deadline (Membership.takeoverReady);
/// peers outside the partition do not vote on the map. Two nodes on different maps could
/// both want it, so one of these must hold:
/// - every live peer reports our map (then only our map decides, and it gives the bucket to us); or
/// - the peer that released it last is alive and reports our map. A node on any other map cannot
///   take it then: it needs that peer to report its map too. This is the fast path of a drain: the
///   taker installs on the owner's release notice without waiting for the other peers' news.
export function mayTake (bucket: number, mapVersion: number, peers: readonly PeerClaim[], releasedBy: ReadonlyMap<number, string>): boolean {
  if (peers.every(p => p.failed || p.outside === true || p.mapVersion === mapVersion)) return true
  const releaser = peers.find(p => p.id === releasedBy.get(bucket))
  return releaser !== undefined && !releaser.failed && releaser.outside !== true && releaser.mapVersion === mapVersion
}

/// The buckets to accept next: what we own and still want, plus what we want, no live peer claims,
/// and we may take. `releasedBy`: bucket → the peer whose heartbeat last dropped its claim.
export function nextOwnership (owned: ReadonlySet<number>, desired: ReadonlySet<number>, mapVersion: number, peers: readonly PeerClaim[], releasedBy: ReadonlyMap<number, string>): Set<number> {
  const next = new Set<number>()
  for (const b of owned) if (desired.has(b)) next.add(b)
  const claimed = new Set<number>()
  for (const p of peers) if (!p.failed) for (const b of fromBitmap(p.owned)) claimed.add(b)
  for (const b of desired) if (!claimed.has(b) && mayTake(b, mapVersion, peers, releasedBy)) next.add(b)
  return next
}

/// Updates `releasedBy` from a peer's new heartbeat: what it claimed before and no longer claims it
/// has released; what it claims now nobody has released.
export function noteReleases (releasedBy: Map<number, string>, peer: string, before: Uint8Array | undefined, now: Uint8Array): void {
  const claims = new Set(fromBitmap(now))
  for (const b of claims) releasedBy.delete(b)
  if (before !== undefined) for (const b of fromBitmap(before)) if (!claims.has(b)) releasedBy.set(b, peer)
}
