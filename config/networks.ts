/// Client networks for the listeners' allow lists (icap.allow, clamd.allow, milter.allow) and the milter's network
/// lists (milter.skip.networks, milter.notify.localNetworks): CIDR text ("10.0.0.0/8",
/// "2001:db8::/32", or a bare address for one host) checked at load, and the predicate a listener
/// asks at accept. Node's net.BlockList does the matching (IPv4 and IPv6 alike); it has no parser
/// for "address/prefix" text, so that part is here.
import convict from 'convict'
import { BlockList, isIP } from 'node:net'

export interface Network { readonly address: string, readonly prefix: number, readonly family: 'ipv4' | 'ipv6' }

/// One network from its text; throws with the reason.
export function parseNetwork (text: string): Network {
  const [address = '', prefixText, extra] = text.trim().split('/')
  const version = isIP(address)
  if (version === 0 || extra !== undefined) throw new Error(`"${text}" is not an IPv4 or IPv6 address or network (CIDR)`)
  const max = version === 4 ? 32 : 128
  const prefix = prefixText === undefined ? max : /^[0-9]{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN
  if (!(prefix >= 0 && prefix <= max)) throw new Error(`"${text}": the prefix length must be 0 to ${max}`)
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' }
}

export const networkListFormat = 'network-list'

convict.addFormat({
  name: networkListFormat,
  validate: (value: unknown) => {
    if (!Array.isArray(value) || !value.every(s => typeof s === 'string')) throw new Error('must be an array of networks (CIDR), e.g. ["127.0.0.0/8", "::1"]')
    for (const text of value as string[]) parseNetwork(text)
  },
  coerce: (text: string) => text.trim() === '' ? [] : text.split(','),
})

/// Whether an address is in one of the networks (an empty list holds no one). IPv4 clients of a
/// dual-stack listener arrive as ::ffff:a.b.c.d and are matched against the IPv4 networks; what is
/// no address (a unix socket's '-') is in no network.
export function networkMatcher (networks: readonly string[]): (address: string) => boolean {
  const list = new BlockList()
  for (const n of networks.map(parseNetwork)) list.addSubnet(n.address, n.prefix, n.family)
  return address => {
    const mapped = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address
    const version = isIP(mapped)
    return version !== 0 && list.check(mapped, version === 4 ? 'ipv4' : 'ipv6')
  }
}

/// The predicate a listener asks for each new connection's remote address, or undefined when the
/// list lets everyone in (no check at all on the accept path).
export function allowPredicate (networks: readonly string[]): ((remote: string) => boolean) | undefined {
  const parsed = networks.map(parseNetwork)
  const everyone = (family: Network['family']): boolean => parsed.some(n => n.family === family && n.prefix === 0)
  if (everyone('ipv4') && everyone('ipv6')) return undefined
  return networkMatcher(networks)
}
