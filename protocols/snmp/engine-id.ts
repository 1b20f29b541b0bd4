/// SNMP engine IDs (RFC 3411 §5, SnmpEngineID): each node has its own, derived from its node id, so
/// that USM keys localized to it stay valid across restarts and differ between nodes.
import { createHash } from 'node:crypto'

/// The private enterprise number of an OID under enterprises (1.3.6.1.4.1.<PEN>...).
export function enterpriseNumber (oid: string): number {
  const pen = Number(/^1\.3\.6\.1\.4\.1\.(\d+)/.exec(oid)?.[1])
  if (!Number.isInteger(pen) || pen <= 0 || pen > 0x7fffffff) throw new RangeError(`not an enterprise OID: ${oid}`)
  return pen
}

/// 0x80000000 | PEN (the "new" format bit), format 5 (administratively assigned octets), then the
/// first 12 octets of SHA-256 over the node id: 17 octets, within the 5..32 that RFC 3411 allows.
export function engineIdFor (nodeId: string, pen: number): Buffer {
  const head = Buffer.alloc(5)
  head.writeUInt32BE((0x80000000 | pen) >>> 0, 0)
  head.writeUInt8(5, 4)
  const tail = createHash('sha256').update(`scanwall-engine:${nodeId}`).digest().subarray(0, 12)
  return Buffer.concat([head, tail])
}
