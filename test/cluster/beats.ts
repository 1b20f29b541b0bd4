/// A heartbeat for membership-only tests (paths.test.ts, quorum-node.ts): no buckets, no load, just
/// the identity, sequence and the `membership` field.
import type { PeerBeat } from '../../src/cluster/types.js'
import type { MembershipReport } from '../../src/cluster/quorum.js'

export function membershipBeat (cluster: string, node: string, boot: string, bootTs: number, seq: number, membership: MembershipReport): PeerBeat {
  const load = { cpu: 0, memory: 0, queue: 0, poolBusy: 0 }
  const beat: PeerBeat = { v: 1, type: 'heartbeat', cluster, node, boot, bootTs, seq, ts: Date.now(), state: 'online', capacity: 1, weight: 1, load, mapVersion: 0, owned: new Uint8Array(32), signatureVersion: '-', configVersion: '-', healthy: true, failing: [], connections: 0 }
  return { ...beat, membership }
}
