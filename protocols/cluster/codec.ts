/// Heartbeat codec: plain MessagePack (msgpackr with useRecords:false, so every datagram is
/// self-describing and a lost packet never breaks the next one) inside an HMAC-SHA256 envelope.
/// Wire: "SW" | wire version (1 byte) | HMAC-SHA256(key, "SW" | version | payload) (32) | payload.
/// The MAC is checked before the payload is decoded, so an unauthenticated sender reaches no parser.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { Packr } from 'msgpackr'
import { validate, type ClusterMessage } from './messages.js'

const magic = Buffer.from('SW')
const wireVersion = 1
const macLength = 32
const headerLength = magic.length + 1 + macLength

const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number' })

function mac (key: Buffer, head: Buffer, payload: Buffer): Buffer {
  return createHmac('sha256', key).update(head).update(payload).digest()
}

export function encode (message: ClusterMessage, key: Buffer): Buffer {
  const payload = packr.pack(message)
  const head = Buffer.from([...magic, wireVersion])
  return Buffer.concat([head, mac(key, head, payload), payload])
}

export type DecodeResult = { ok: true, message: ClusterMessage } | { ok: false, reason: 'short' | 'magic' | 'version' | 'mac' | 'payload' | 'schema', detail?: string }

export function decode (datagram: Buffer, key: Buffer): DecodeResult {
  if (datagram.length < headerLength + 1) return { ok: false, reason: 'short' }
  if (!datagram.subarray(0, 2).equals(magic)) return { ok: false, reason: 'magic' }
  if (datagram[2] !== wireVersion) return { ok: false, reason: 'version' }
  const head = datagram.subarray(0, 3)
  const payload = datagram.subarray(headerLength)
  if (!timingSafeEqual(mac(key, head, payload), datagram.subarray(3, headerLength))) return { ok: false, reason: 'mac' }
  let value: unknown
  try {
    value = packr.unpack(payload)
  } catch (err) {
    return { ok: false, reason: 'payload', detail: err instanceof Error ? err.message : String(err) }
  }
  const checked = validate(value)
  if (!checked.ok) return { ok: false, reason: 'schema', detail: checked.reason }
  // msgpackr returns binary fields as views into the datagram; the agent keeps `owned` for a while,
  // so it gets its own copy rather than a window into memory the socket layer may reuse.
  return { ok: true, message: { ...checked.message, owned: Uint8Array.from(checked.message.owned) } }
}
