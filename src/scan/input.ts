/// What a scan is given besides its body: the context the object came in (which service, for whom,
/// from where), and the one body that is not scanned at all, a body past the object-size limit,
/// which the scan service answers with a `limit` verdict for the policy to decide (ClamAV's
/// MaxFileSize: an object too large to scan is a finding, not an error).
import type { BodySource } from './body.js'
import type { Finding } from '../engine/verdict.js'

/// Who sent the object and how; every field but `service` is what the protocol knows, if anything.
export interface ScanContext {
  /// The protocol service the object came through (ICAP: the primary service of the path).
  readonly service: string
  /// The protocol method (REQMOD, RESPMOD, INSTREAM…).
  readonly method?: string
  /// The end client (X-Client-IP) or the peer.
  readonly client?: string
  readonly user?: string
  /// The URL of the HTTP message the object belongs to.
  readonly url?: string
  /// The header fields of the HTTP message whose body this is, names lower-case (repeated fields
  /// joined with ', ').
  readonly headers?: Readonly<Record<string, string>>
  /// A mail message's envelope (the milter listener): usage per sender and recipient is counted from it.
  readonly mail?: MailEnvelope
}

export interface MailEnvelope {
  /// MAIL FROM without angle brackets ('' for a bounce).
  readonly sender: string
  readonly recipients: readonly string[]
  /// The MTA's queue id (Postfix `{i}`), when it sent one.
  readonly queueId?: string
  readonly helo?: string
}

/// A body over scan.maxObjectBytes: `size` bytes seen (or declared), not scanned. `kept` holds its
/// bytes when the protocol needs them to hand the object back unchanged.
export interface OversizeBody {
  readonly kind: 'oversize'
  readonly size: number
  readonly kept: BodySource | undefined
}

export type ScanBody = BodySource | OversizeBody

/// The finding of an object over the size limit (the threat a block names).
export const oversizeFinding: Finding = { name: 'Heuristics.Limits.Exceeded.MaxObjectSize', kind: 'limit', path: [] }
