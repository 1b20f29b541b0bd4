/// The kernel's half of the duplicate-owner safety net (issue #17 item 4): resets this node sends for
/// connections it never accepted. When two hosts own a bucket, both answer the client's SYN; the
/// client completes the handshake with the faster one, and its ACK and data also reach the slower
/// one, whose socket does not match them (another SYN-ACK was acknowledged), so the slower one
/// answers each with a reset and the client's connection dies. Measured in the namespaces of
/// test/cluster/resets.test.ts: with two owners, 100 of 100 connections were reset, two such
/// resets per connection. Those resets are replies to segments that carry an ACK, so they are bare
/// RSTs (RFC 793: <SEQ=SEG.ACK><CTL=RST>, no ACK flag), while the resets a healthy node sends carry
/// ACK: refusing a SYN, or aborting a connection it accepted. Conntrack does not tell them apart (the
/// slower owner's entry is ASSURED too: it saw the client's ACK). So the probe counts bare RSTs
/// from the virtual address's ports. Noise: a segment arriving after its socket is gone (a late
/// retransmission) also draws one; hence a rate threshold held for a while, not a single packet.
/// The counter lives in the owner table (`flags owner`, netfilter.ts), so it ends with the process
/// like the buckets do. Beside the counter, a set keeps the buckets of recent bare resets (the same
/// jhash as the filter, over the reset's destination: the client). Neither can say which host is the
/// other owner: reset-guard.ts samples them and the agent gives those buckets up (agent-safety.ts).
/// Rendering, parsing and rate logic are pure; the caller runs nft.

export interface ResetProbeOptions {
  readonly vip: string
  readonly ports: readonly number[]
  /// The bucket hash of the filter (netfilter.ts): a reset's bucket is its client's, so the set
  /// below says which buckets another host answers for.
  readonly buckets: number
  readonly seed: number
}

export const resetCounter = 'foreign_resets'
export const resetBuckets = 'foreign_buckets'

/// How long a bucket stays in the set after its last bare reset. Each bucket sees only a share of
/// the new connections, so a short memory lists only some of the colliding buckets per report (with
/// 1 s, ~250 probes/s over 256 buckets in the hub bed took five reports, 4 s, to list them all);
/// a stale entry matters only if resets go on, since nothing is reported without a sustained rate.
const bucketMemory = '4s'

/// nft commands (one per line, for the owner table's `nft -i` session) that add the counter, the set
/// of buckets with recent bare resets, and the output-hook rule feeding both. The client's address
/// and port are the reset's destination: the same jhash over them gives the bucket.
export function renderResetProbe (table: string, o: ResetProbeOptions): string[] {
  const seed = `0x${(o.seed >>> 0).toString(16).padStart(8, '0')}`
  return [
    `add counter ip ${table} ${resetCounter}`,
    `add set ip ${table} ${resetBuckets} { type mark; flags dynamic,timeout; timeout ${bucketMemory}; }`,
    `add chain ip ${table} out { type filter hook output priority -150; policy accept; }`,
    `add rule ip ${table} out ip saddr ${o.vip} tcp sport { ${o.ports.join(', ')} } tcp flags & (rst | ack) == rst ` +
      `update @${resetBuckets} { jhash ip daddr . tcp dport mod ${o.buckets} seed ${seed} } counter name "${resetCounter}"`,
  ]
}

/// Packets of the counter in `nft -j list counter ip <table> foreign_resets` output.
export function parseResetCounter (json: string): number {
  const doc = JSON.parse(json) as { nftables?: Array<{ counter?: { name?: string, packets?: number } }> }
  const entry = doc.nftables?.find(x => x.counter?.name === resetCounter)?.counter
  if (entry === undefined || typeof entry.packets !== 'number') throw new Error(`no counter ${resetCounter} in the nft listing`)
  return entry.packets
}

export interface ResetSample {
  /// Bare resets sent since the table was made.
  readonly packets: number
  /// Buckets with a bare reset within the last `bucketMemory`.
  readonly buckets: readonly number[]
}

/// The counter and the set in the owner table's text listing (`list table`, as the owner nft
/// session prints it after every command: netfilter.ts reads them there).
export function parseResetListing (listing: string): ResetSample {
  const m = new RegExp(`counter ${resetCounter} \\{\\s*packets (\\d+) bytes`).exec(listing)
  if (m?.[1] === undefined) throw new Error(`no counter ${resetCounter} in the nft listing`)
  const set = new RegExp(`set ${resetBuckets} \\{[^}]*?elements = \\{([^}]*)\\}`).exec(listing)?.[1] ?? ''
  const buckets = set.split(',').map(e => e.trim()).filter(e => e !== '').map(e => Number(e.split(/\s+/)[0])).filter(n => Number.isInteger(n) && n >= 0)
  return { packets: Number(m[1]), buckets: [...new Set(buckets)].sort((a, b) => a - b) }
}

export interface ResetRateOptions {
  /// Resets per second that count as a symptom.
  readonly perSecond: number
  /// How long the rate must stay above it before the detector says so (one burst is not enough).
  readonly sustainMs: number
}

export type ResetVerdict = { readonly suspect: false } | { readonly suspect: true, readonly perSecond: number, readonly sinceMs: number }

export class ResetRateDetector {
  readonly #o: ResetRateOptions
  #last: { packets: number, at: number } | undefined
  #aboveSince: number | undefined

  constructor (options: ResetRateOptions) { this.#o = options }

  /// One counter sample (monotonic ms). A counter that went down (table re-created) restarts the rate.
  sample (packets: number, at: number): ResetVerdict {
    const last = this.#last
    this.#last = { packets, at }
    if (last === undefined || packets < last.packets || at <= last.at) return this.#verdict(0, at)
    const rate = (packets - last.packets) * 1000 / (at - last.at)
    return this.#verdict(rate, at)
  }

  #verdict (rate: number, at: number): ResetVerdict {
    if (rate < this.#o.perSecond) {
      this.#aboveSince = undefined
      return { suspect: false }
    }
    this.#aboveSince ??= at
    const sinceMs = at - this.#aboveSince
    return sinceMs >= this.#o.sustainMs ? { suspect: true, perSecond: Math.round(rate), sinceMs } : { suspect: false }
  }
}
