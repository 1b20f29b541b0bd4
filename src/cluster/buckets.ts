/// The bucket map: which node accepts new connections of which bucket (hash(src ip, src port) mod B).
/// Pure and deterministic, so every agent that sees the same membership computes the same map and no
/// leader is needed. Weighted rendezvous hashing (highest random weight): a node leaving moves only
/// its own buckets, a node joining takes only what its weight earns, and weights skew the share.
/// Load-driven weights are damped by the node that advertises them (weight.ts).
import { createHash } from 'node:crypto'

export interface Member {
  readonly id: string
  /// Effective weight (capacity × load factor) as the node advertises it; ≤ 0 owns nothing.
  readonly weight: number
}

/// owner[b] is the id of the node that owns bucket b, or undefined when no member is eligible.
export interface BucketMap {
  readonly version: number
  readonly owners: ReadonlyArray<string | undefined>
}

/// A 53-bit unsigned value in (0, 1) from (bucket, node): the per-pair "random" rendezvous draw.
function draw (bucket: number, id: string): number {
  const digest = createHash('sha256').update(`${bucket}\u0000${id}`).digest()
  // 52 bits of mantissa plus 0.5 of a step keeps the value strictly inside (0, 1), so ln() is finite.
  const hi = digest.readUInt32BE(0) >>> 0
  const lo = digest.readUInt32BE(4) >>> 12
  return (hi * 2 ** 20 + lo + 0.5) / 2 ** 52
}

/// Version of a map input: equal inputs give equal versions on every node (shown in status and
/// carried in heartbeats so operators can see whether the nodes agree).
export function mapVersion (members: readonly Member[], buckets: number): number {
  const canonical = [...members].sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
    .map(m => `${m.id}=${m.weight}`).join(',')
  return createHash('sha256').update(`${buckets}|${canonical}`).digest().readUInt32BE(0)
}

/// Weighted rendezvous: bucket b goes to the member with the highest -w / ln(draw(b, id)).
export function computeBuckets (members: readonly Member[], buckets: number): BucketMap {
  const eligible = members.filter(m => m.weight > 0 && Number.isFinite(m.weight))
  const owners: Array<string | undefined> = []
  for (let b = 0; b < buckets; b++) {
    let best: string | undefined
    let bestScore = -Infinity
    for (const m of eligible) {
      const score = -m.weight / Math.log(draw(b, m.id))
      // Ties are practically impossible with 53-bit draws, but the id order keeps them deterministic.
      if (score > bestScore || (score === bestScore && best !== undefined && m.id < best)) {
        best = m.id
        bestScore = score
      }
    }
    owners.push(best)
  }
  return { version: mapVersion(eligible, buckets), owners }
}

/// Buckets owned by one node in a map, ascending.
export function bucketsOf (map: BucketMap, id: string): number[] {
  const out: number[] = []
  map.owners.forEach((owner, b) => { if (owner === id) out.push(b) })
  return out
}

/// The kernel's jhash (lookup3, include/linux/jhash.h) over what nft's
/// `jhash ip saddr . tcp sport mod B seed S` hashes: the address, then the port in a 4-byte register
/// (2 bytes big-endian, 2 zero bytes). Lets the agent and tools say which bucket, hence which node,
/// a client connection lands on, without asking the kernel.
export function kernelBucket (saddr: string, sport: number, buckets: number, seed: number): number {
  const parts = saddr.split('.').map(Number)
  const key = Buffer.alloc(8)
  parts.forEach((p, i) => key.writeUInt8(p & 0xff, i))
  key.writeUInt16BE(sport & 0xffff, 4)
  const h = jhash(key, seed >>> 0)
  // reciprocal_scale(): (h * B) >> 32
  return Number((BigInt(h) * BigInt(buckets)) >> 32n)
}

function rol (x: number, k: number): number { return ((x << k) | (x >>> (32 - k))) >>> 0 }

function jhash (key: Buffer, initval: number): number {
  // Only the 8-byte key matters here: no 12-byte rounds; tail bytes are read little-endian like
  // the kernel's byte-wise switch.
  let a = (0xdeadbeef + key.length + initval) >>> 0
  let b = a
  let c = a
  b = (b + key.readUInt32LE(4)) >>> 0
  a = (a + key.readUInt32LE(0)) >>> 0
  // __jhash_final
  c ^= b; c = (c - rol(b, 14)) >>> 0
  a ^= c; a = (a - rol(c, 11)) >>> 0
  b ^= a; b = (b - rol(a, 25)) >>> 0
  c ^= b; c = (c - rol(b, 16)) >>> 0
  a ^= c; a = (a - rol(c, 4)) >>> 0
  b ^= a; b = (b - rol(a, 14)) >>> 0
  c ^= b; c = (c - rol(b, 24)) >>> 0
  return c >>> 0
}
