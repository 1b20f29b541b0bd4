/// DNS blocklists on the connecting client's address: the address reversed under each zone
/// (1.2.0.192.zen.example for 192.0.2.1; IPv6 as 32 reversed nibbles), an A answer in 127/8 means
/// listed. Asked through node's DNS Resolver pointed at `spam.dnsServers` (the operator's caching
/// resolver; public resolvers are refused by most blocklists). Answers are cached for their TTL,
/// "not listed" for `negativeTtlSeconds`; a timeout or SERVFAIL counts as not listed and is not
/// cached (a blocklist outage must not reject mail).
import { Resolver } from 'node:dns/promises'
import { isIPv4, isIPv6 } from 'node:net'
import type { AddressLists } from './filter.js'
import type { RuleHit } from './rules.js'

export interface DnsblZone { readonly zone: string, readonly score: number }

export interface DnsblSettings {
  readonly zones: readonly DnsblZone[]
  /// host:port or host; empty: the system's resolvers.
  readonly servers: readonly string[]
  readonly timeoutMs: number
  readonly negativeTtlSeconds: number
}

/// The name to look up for an address under a zone; undefined for something that is no address.
export function reversedName (address: string, zone: string): string | undefined {
  const bare = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '')
  if (isIPv4(bare)) return `${bare.split('.').reverse().join('.')}.${zone}`
  if (!isIPv6(bare)) return undefined
  const [head = '', tail = ''] = bare.split('::')
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'))
  const h = groups(head)
  const t = groups(tail)
  const full = bare.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h
  const nibbles = full.map(g => g.padStart(4, '0')).join('').split('')
  return `${nibbles.reverse().join('.')}.${zone}`
}

const zoneName = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i

interface CacheEntry { readonly listed: string | undefined, readonly until: number }

export class Dnsbl implements AddressLists {
  readonly #settings: DnsblSettings
  readonly #resolver: Resolver
  readonly #cache = new Map<string, CacheEntry>()
  /// Lookups answered from the cache and from the resolver (for tests and the log).
  readonly stats = { cached: 0, asked: 0 }

  constructor (settings: DnsblSettings) {
    for (const z of settings.zones) if (!zoneName.test(z.zone)) throw new Error(`spam.dnsbl: '${z.zone}' is not a DNS zone name`)
    this.#settings = settings
    this.#resolver = new Resolver({ timeout: settings.timeoutMs, tries: 1 })
    if (settings.servers.length > 0) this.#resolver.setServers([...settings.servers])
  }

  async check (address: string): Promise<RuleHit[]> {
    const answers = await Promise.all(this.#settings.zones.map(async z => ({ z, listed: await this.#lookup(address, z.zone) })))
    return answers.filter(a => a.listed !== undefined).map(a => ({ name: `DNSBL:${a.z.zone}`, score: a.z.score }))
  }

  /// The 127.x answer when listed, else undefined.
  async #lookup (address: string, zone: string): Promise<string | undefined> {
    const name = reversedName(address, zone)
    if (name === undefined) return undefined
    const now = Date.now()
    const hit = this.#cache.get(name)
    if (hit !== undefined && hit.until > now) { this.stats.cached++; return hit.listed }
    this.stats.asked++
    try {
      const records = await this.#resolver.resolve4(name, { ttl: true })
      const listed = records.find(r => r.address.startsWith('127.'))
      const ttl = Math.max(1, Math.min(...records.map(r => r.ttl)))
      this.#remember(name, listed?.address, now + ttl * 1000)
      return listed?.address
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'ENOTFOUND' || code === 'ENODATA') this.#remember(name, undefined, now + this.#settings.negativeTtlSeconds * 1000)
      return undefined
    }
  }

  #remember (name: string, listed: string | undefined, until: number): void {
    // Bounded: a flood of distinct clients must not grow the cache without limit.
    if (this.#cache.size >= 100_000) this.#cache.delete(this.#cache.keys().next().value as string)
    this.#cache.set(name, { listed, until })
  }
}
