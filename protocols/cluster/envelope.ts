/// The authenticated datagram envelope every cluster protocol shares (heartbeats: codec.ts, the
/// witness: witness-messages.ts): plain MessagePack (msgpackr with useRecords:false, so every
/// datagram is self-describing and a lost packet never breaks the next one) inside HMAC-SHA256.
/// Wire: magic (2 bytes) | wire version (1 byte) | HMAC-SHA256(key, magic | version | payload) (32) |
/// payload. Each protocol has its own magic, so a heartbeat is never read as a witness message.
/// The MAC is checked before the payload is decoded, so an unauthenticated sender reaches no parser.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { Packr } from 'msgpackr'

const wireVersion = 1
const macLength = 32
const headerLength = 2 + 1 + macLength

const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number' })

export type OpenFailure = 'short' | 'magic' | 'version' | 'mac' | 'payload'
export type OpenResult = { ok: true, value: unknown } | { ok: false, reason: OpenFailure, detail?: string }

function mac (key: Buffer, head: Buffer, payload: Buffer): Buffer {
  return createHmac('sha256', key).update(head).update(payload).digest()
}

export function seal (magic: string, value: unknown, key: Buffer): Buffer {
  const payload = packr.pack(value)
  const head = Buffer.from([...Buffer.from(magic, 'latin1').subarray(0, 2), wireVersion])
  return Buffer.concat([head, mac(key, head, payload), payload])
}

/// Checks magic, version and MAC, then decodes; the value is still `unknown` (validate it next).
export function open (magic: string, datagram: Buffer, key: Buffer): OpenResult {
  if (datagram.length < headerLength + 1) return { ok: false, reason: 'short' }
  if (!datagram.subarray(0, 2).equals(Buffer.from(magic, 'latin1'))) return { ok: false, reason: 'magic' }
  if (datagram[2] !== wireVersion) return { ok: false, reason: 'version' }
  const head = datagram.subarray(0, 3)
  const payload = datagram.subarray(headerLength)
  if (!timingSafeEqual(mac(key, head, payload), datagram.subarray(3, headerLength))) return { ok: false, reason: 'mac' }
  try {
    return { ok: true, value: packr.unpack(payload) }
  } catch (err) {
    return { ok: false, reason: 'payload', detail: err instanceof Error ? err.message : String(err) }
  }
}
