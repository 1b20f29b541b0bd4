/// Quorum: which nodes form this node's partition, and may that partition take the buckets of the
/// nodes outside it (issue #17: never two owners). Pure functions of the latest heartbeat reports;
/// the clocks and deadlines live in membership.ts.
///
/// Why not corosync. Debian 12 ships corosync 3.1.7, corosync-qdevice and -qnetd 3.0.3, and they
/// install here, but: (1) membership and quorum events come only through the C libraries (libcpg,
/// libvotequorum, libquorum); there is no maintained Node binding, and corosync-quorumtool /
/// corosync-cmapctl can only be polled, which is neither event-driven nor sub-second; (2) totem's
/// token timeout defaults to 3000 ms (+650 ms per node past two with token_coefficient); sub-second
/// failover needs a token near 300 ms, which upstream warns against, and a token loss re-forms the
/// whole ring, so a one-way cut makes it flap rather than fail one node; (3) one corosync runs per
/// host with one corosync.conf and authkey, while a Scanwall node runs several cluster instances with
/// their own groups, keys and timing; (4) a second daemon to supervise, configure and upgrade on
/// every gateway, and knet inside the netns bed, for semantics we need only a few lines of. So this
/// module implements the votequorum semantics the issue asks for, and is tested the same way:
///  - expected votes = the configured voting members (one vote each); quorum = floor(n/2) + 1;
///  - two_node is replaced by a witness vote that counts only on an exact half (2 of 4, 1 of 2), as
///    qdevice's ffsplit algorithm does: a majority never needs the witness, so killing the witness
///    alone changes nothing while the cluster is whole, and for odd n it never matters;
///  - wait_for_all: after start a node is never quorate until it has once seen every voter in its
///    partition at the same time, or joined a partition whose members already are quorate (so a
///    freshly started lone node never takes buckets, but a restarted node rejoins a running cluster);
///  - last_man_standing is not implemented: it lowers expected votes step by step as nodes leave
///    cleanly, which needs a cluster-wide agreed "expected votes" (a replicated value), and the
///    failover it buys (a 3-node cluster surviving two sequential failures) the witness already gives.
/// Membership is mutual reachability: a peer is in my partition only when I hear it and its latest
/// heartbeat says it hears me, so a node whose heartbeats are cut one way (heard but deaf, or hearing
/// but unheard) is never counted by anyone and counts no one. When reachability is not transitive
/// (A–B and B–C hear each other, A–C do not), the partitions members report differ; a partition is
/// `settled` only when every member reports the same one, and an unsettled node takes nothing new.
import { ScanwallError } from '../errors.js'

/// What a peer's latest heartbeat says about membership (protocols/cluster/membership-fields.ts).
export interface MembershipReport {
  /// Peers the sender hears now (on any path), with the paths it hears each on.
  readonly heard: Readonly<Record<string, readonly string[]>>
  /// The sender's own partition, sorted.
  readonly partition: readonly string[]
  /// The sender is quorate (or holds its buckets through a witness grant) and has waited for all.
  readonly quorate: boolean
}

export interface QuorumInput {
  readonly self: string
  /// Configured voting members, this node included.
  readonly voters: readonly string[]
  /// Peers this node hears now (any path, within the suspect deadline).
  readonly hears: ReadonlySet<string>
  /// Latest report of each peer this node hears.
  readonly reports: ReadonlyMap<string, MembershipReport>
  /// The partition a witness granted its vote to, while the grant is valid; undefined without one.
  readonly witnessGrant: readonly string[] | undefined
  /// wait_for_all already satisfied (sticky, membership.ts keeps it).
  readonly waitedForAll: boolean
}

export type QuorumState = 'quorate' | 'minority' | 'waiting'

export interface QuorumDecision {
  readonly state: QuorumState
  readonly partition: readonly string[]
  /// Every member of the partition reports the same partition.
  readonly settled: boolean
  readonly votes: number
  readonly expected: number
  readonly needed: number
  /// How the partition is quorate: a strict majority, or an exact half plus the witness.
  readonly by: 'majority' | 'witness' | undefined
  /// wait_for_all is satisfied after this decision (all voters seen at once, or joined a quorate partition).
  readonly waitedForAll: boolean
  /// One line for logs and `cluster status`: why this node may or may not hold buckets.
  readonly reason: string
}

/// The ids of this node's partition, sorted: itself and every peer it hears that hears it.
export function partitionOf (self: string, hears: ReadonlySet<string>, reports: ReadonlyMap<string, MembershipReport>): string[] {
  const members = [self]
  for (const peer of hears) {
    const report = reports.get(peer)
    if (report !== undefined && Object.hasOwn(report.heard, self)) members.push(peer)
  }
  return members.sort()
}

export function samePartition (a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i])
}

/// Votes needed for quorum among n configured voters.
export function quorumOf (expected: number): number {
  return Math.floor(expected / 2) + 1
}

export function decideQuorum (input: QuorumInput): QuorumDecision {
  const partition = partitionOf(input.self, input.hears, input.reports)
  const settled = partition.every(id => id === input.self || samePartition(input.reports.get(id)?.partition ?? [], partition))
  const voterSet = new Set(input.voters)
  const votes = partition.filter(id => voterSet.has(id)).length
  const expected = voterSet.size
  const needed = quorumOf(expected)
  const half = 2 * votes === expected
  const witness = half && input.witnessGrant !== undefined && samePartition(input.witnessGrant, partition)
  const by = votes >= needed ? 'majority' : witness ? 'witness' : undefined
  const allSeen = votes === expected
  const joinedQuorate = partition.some(id => id !== input.self && input.reports.get(id)?.quorate === true)
  const waitedForAll = input.waitedForAll || allSeen || (by !== undefined && joinedQuorate)
  const where = `partition {${partition.join(',')}}: ${votes} of ${expected} votes`
  let state: QuorumState
  let reason: string
  if (by === undefined) {
    state = 'minority'
    reason = half
      ? `${where}, an exact half, and the witness ${input.witnessGrant === undefined ? 'gave no vote' : `votes for {${input.witnessGrant.join(',')}}`}: in a minority, holds no buckets`
      : `${where}, needs ${needed}: in a minority, holds no buckets`
  } else if (!waitedForAll) {
    state = 'waiting'
    reason = `${where}: waiting to see all ${expected} voters once since start (wait_for_all), holds no buckets`
  } else {
    state = 'quorate'
    reason = by === 'witness' ? `${where} plus the witness: quorate` : `${where}: quorate`
    if (!settled) reason += '; members report different partitions (reachability is not transitive): takes no new buckets'
  }
  return { state, partition, settled, votes, expected, needed, by, waitedForAll, reason }
}

/// The timing the quorum safety rests on, checked once at start. A node that loses quorum must have
/// stopped accepting before any other node takes its buckets: it notices after `suspectMs` (plus at
/// most one interval to hear that peers no longer hear it, plus `graceMs` for a witness answer) and
/// its filter change takes up to `applyMs`; the others take its buckets only after `deadMs`.
export interface QuorumTiming {
  readonly intervalMs: number
  readonly suspectMs: number
  readonly deadMs: number
  readonly graceMs: number
  readonly applyMs: number
}

/// Throws CONFIG_INVALID naming the key when the timing cannot keep "never two owners".
export function checkTiming (t: QuorumTiming, where: string): void {
  const fencedBy = t.suspectMs + t.intervalMs + t.graceMs + t.applyMs
  if (t.suspectMs < 2 * t.intervalMs) throw new ScanwallError('CONFIG_INVALID', `${where}.suspectMs (${t.suspectMs}) must be at least two heartbeat intervals (${2 * t.intervalMs})`)
  if (fencedBy >= t.deadMs) {
    throw new ScanwallError('CONFIG_INVALID', `${where}.missed: the failure deadline (${t.deadMs} ms) must exceed suspectMs + intervalMs + graceMs + applyMs (${fencedBy} ms), so a node in a minority has stopped accepting before its buckets are taken`)
  }
}
