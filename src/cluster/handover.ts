/// Bucket hand-over, the one place that decides which buckets this node's filter accepts next.
/// Releasing never waits. Taking is break-before-make: a bucket is taken only once every live peer
/// reports the same map and no live peer claims it in its last heartbeat. A peer announces each
/// filter change at once (the heartbeat that follows it is its release notice), so a taker installs
/// as soon as the owner has removed; a lost notice is repaired by the next periodic heartbeat.
/// Rules about who may take at all (e.g. a majority) belong in mayTake().
import { fromBitmap } from './bitmap.js'

/// What the hand-over needs to know of a peer: its last heartbeat, and whether it was judged failed.
export interface PeerClaim {
  readonly failed: boolean
  readonly mapVersion: number
  /// Bitmap of the buckets its filter accepts (or may accept: a change in progress claims both).
  readonly owned: Uint8Array
}

/// May this node take buckets now? Only when every live peer computes the same map: a peer still on
/// an older map may hold, or be about to take, what ours gives us.
export function mayTake (mapVersion: number, peers: readonly PeerClaim[]): boolean {
  return peers.every(p => p.failed || p.mapVersion === mapVersion)
}

/// The buckets to accept next: what we own and still want, plus what we want and no live peer claims
/// (when we may take).
export function nextOwnership (owned: ReadonlySet<number>, desired: ReadonlySet<number>, mapVersion: number, peers: readonly PeerClaim[]): Set<number> {
  const next = new Set<number>()
  for (const b of owned) if (desired.has(b)) next.add(b)
  if (!mayTake(mapVersion, peers)) return next
  const claimed = new Set<number>()
  for (const p of peers) if (!p.failed) for (const b of fromBitmap(p.owned)) claimed.add(b)
  for (const b of desired) if (!claimed.has(b)) next.add(b)
  return next
}
