/// The skip lists (config milter.skip): messages from clients in local networks, from
/// SASL-authenticated senders (`{auth_authen}`) or from allow-listed envelope senders are accepted
/// at MAIL FROM without a scan. Networks are matched with node:net's BlockList (CIDR, v4 and v6).
import { BlockList, isIP } from 'node:net'
import type { MilterEnvelope, VerdictReply } from '../../protocols/milter/index.js'
import { bare } from './record.js'

export interface SkipConfig {
  readonly networks: readonly string[]
  readonly authenticated: boolean
  readonly senders: readonly string[]
}

export type SkipCheck = (envelope: MilterEnvelope) => { readonly reply: VerdictReply, readonly reason: string } | undefined

export function networksOf (networks: readonly string[]): BlockList {
  const list = new BlockList()
  for (const n of networks) {
    const [address = '', prefix] = n.split('/')
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4'
    if (prefix === undefined) list.addAddress(address, type)
    else list.addSubnet(address, Number(prefix), type)
  }
  return list
}

/// The client's address as the MTA gave it (CONNECT, or the `{client_addr}` macro).
export function clientAddress (envelope: MilterEnvelope): string | undefined {
  const address = envelope.client?.address ?? envelope.macros.get('client_addr')
  return address === undefined || isIP(address) === 0 ? undefined : address
}

export function inNetworks (list: BlockList, address: string | undefined): boolean {
  if (address === undefined) return false
  return list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4')
}

export function skipCheck (config: SkipConfig): SkipCheck | undefined {
  if (config.networks.length === 0 && !config.authenticated && config.senders.length === 0) return undefined
  const networks = networksOf(config.networks)
  const senders = new Set(config.senders.map(s => s.toLowerCase()))
  const accept = (reason: string): { reply: VerdictReply, reason: string } => ({ reply: { kind: 'accept' }, reason: `skip:${reason}` })
  return envelope => {
    if (inNetworks(networks, clientAddress(envelope))) return accept('network')
    if (config.authenticated && (envelope.macros.get('auth_authen') ?? '') !== '') return accept('authenticated')
    const sender = bare(envelope.sender).toLowerCase()
    const at = sender.lastIndexOf('@')
    if (sender !== '' && (senders.has(sender) || (at >= 0 && senders.has(sender.slice(at))))) return accept('sender')
    return undefined
  }
}
