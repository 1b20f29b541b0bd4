/// Heartbeat codec: a heartbeat in the shared authenticated envelope (envelope.ts) with magic "SW",
/// validated by messages.ts before anyone sees it.
import { open, seal, type OpenFailure } from './envelope.js'
import { validate, type ClusterMessage } from './messages.js'

const magic = 'SW'

export function encode (message: ClusterMessage, key: Buffer): Buffer {
  return seal(magic, message, key)
}

export type DecodeResult = { ok: true, message: ClusterMessage } | { ok: false, reason: OpenFailure | 'schema', detail?: string }

export function decode (datagram: Buffer, key: Buffer): DecodeResult {
  const opened = open(magic, datagram, key)
  if (!opened.ok) return opened
  const checked = validate(opened.value)
  if (!checked.ok) return { ok: false, reason: 'schema', detail: checked.reason }
  // msgpackr returns binary fields as views into the datagram; the agent keeps `owned` for a while,
  // so it gets its own copy rather than a window into memory the socket layer may reuse.
  return { ok: true, message: { ...checked.message, owned: Uint8Array.from(checked.message.owned) } }
}
