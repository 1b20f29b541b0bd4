/// The skip lists (config milter.skip): messages from clients in local networks, from
/// SASL-authenticated senders (`{auth_authen}`) or from allow-listed envelope senders are accepted
/// at MAIL FROM without a scan. Networks are config/networks.ts's (CIDR, v4 and v6, checked at load).
import { isIP } from 'node:net'
import { networkMatcher } from '../../config/networks.js'
import type { MilterEnvelope, VerdictReply } from '../../protocols/milter/index.js'
import { bare } from './record.js'

export interface SkipConfig {
  readonly networks: readonly string[]
  readonly authenticated: boolean
  readonly senders: readonly string[]
}

export type SkipCheck = (envelope: MilterEnvelope) => { readonly reply: VerdictReply, readonly reason: string } | undefined

/// The client's address as the MTA gave it (CONNECT, or the `{client_addr}` macro).
export function clientAddress (envelope: MilterEnvelope): string | undefined {
  const address = envelope.client?.address ?? envelope.macros.get('client_addr')
  return address === undefined || isIP(address) === 0 ? undefined : address
}

export function inNetworks (matches: (address: string) => boolean, address: string | undefined): boolean {
  return address !== undefined && matches(address)
}

export function skipCheck (config: SkipConfig): SkipCheck | undefined {
  if (config.networks.length === 0 && !config.authenticated && config.senders.length === 0) return undefined
  const networks = networkMatcher(config.networks)
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
