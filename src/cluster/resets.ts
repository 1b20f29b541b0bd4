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
/// like the buckets do. A counter cannot say which peer is the other owner: reset-guard.ts samples
/// it and the agent steps back to its home share (agent-safety.ts). Rendering, parsing and rate
/// logic are pure; the caller runs nft.

export interface ResetProbeOptions {
  readonly vip: string
  readonly ports: readonly number[]
}

export const resetCounter = 'foreign_resets'

/// nft commands (one per line, for the owner table's `nft -i` session) that add the counter and the
/// output-hook rule feeding it.
export function renderResetProbe (table: string, o: ResetProbeOptions): string[] {
  return [
    `add counter ip ${table} ${resetCounter}`,
    `add chain ip ${table} out { type filter hook output priority -150; policy accept; }`,
    `add rule ip ${table} out ip saddr ${o.vip} tcp sport { ${o.ports.join(', ')} } tcp flags & (rst | ack) == rst counter name "${resetCounter}"`,
  ]
}

/// Packets of the counter in `nft -j list counter ip <table> foreign_resets` output.
export function parseResetCounter (json: string): number {
  const doc = JSON.parse(json) as { nftables?: Array<{ counter?: { name?: string, packets?: number } }> }
  const entry = doc.nftables?.find(x => x.counter?.name === resetCounter)?.counter
  if (entry === undefined || typeof entry.packets !== 'number') throw new Error(`no counter ${resetCounter} in the nft listing`)
  return entry.packets
}

/// Packets of the counter in the owner table's text listing (`list table`, as the owner nft session
/// prints it after every command: netfilter.ts reads the count there).
export function parseResetListing (listing: string): number {
  const m = new RegExp(`counter ${resetCounter} \\{\\s*packets (\\d+) bytes`).exec(listing)
  if (m?.[1] === undefined) throw new Error(`no counter ${resetCounter} in the nft listing`)
  return Number(m[1])
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
