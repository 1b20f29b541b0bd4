/// SCANWALL-MIB's value encoders (SMI types as net-snmp takes them) and the shape of a table
/// definition, shared by mib.ts and mib-cluster.ts (the quorum and heartbeat-path tables).
import type { Metrics } from '../../src/metrics.js'
import type { ClusterView, HealthView } from '../../src/cluster/view.js'

export const maxUint32 = 4_294_967_295

/// How a Counter64 value must be handed to net-snmp: its SNMP (BER) encoder takes an 8-byte
/// big-endian buffer, its AgentX encoder calls BigInt(value) and so takes a number.
export type Counter64Encoding = (n: number) => Buffer | number

/// For the UDP agent and trap sessions.
export function counter64 (n: number): Buffer {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(BigInt(Math.max(0, Math.trunc(n))))
  return b
}

/// For the AgentX sub-agent.
export function counter64Number (n: number): number { return Math.max(0, Math.trunc(n)) }

export function gauge32 (n: number): number { return Math.max(0, Math.min(maxUint32, Math.trunc(n))) }

/// RFC 2579 DateAndTime, 11 octets, in UTC ('+' 0 0); the zero date when the time is unknown.
export function dateAndTime (epochMs: number): Buffer {
  const b = Buffer.alloc(11)
  if (epochMs <= 0) return b.subarray(0, 8)
  const d = new Date(epochMs)
  b.writeUInt16BE(d.getUTCFullYear(), 0)
  b.writeUInt8(d.getUTCMonth() + 1, 2)
  b.writeUInt8(d.getUTCDate(), 3)
  b.writeUInt8(d.getUTCHours(), 4)
  b.writeUInt8(d.getUTCMinutes(), 5)
  b.writeUInt8(d.getUTCSeconds(), 6)
  b.writeUInt8(Math.floor(d.getUTCMilliseconds() / 100), 7)
  b.write('+', 8, 'latin1')
  return b
}

/// DisplayString (SIZE (0..255)).
export function text (s: string): string { return s.length > 255 ? s.slice(0, 255) : s }

export interface ColumnDef<Row> {
  readonly number: number
  readonly name: string
  readonly type: number
  readonly value: (row: Row, c64: Counter64Encoding) => unknown
}

export interface TableDef<Row> {
  readonly name: string
  readonly entry: string
  readonly indexName: string
  readonly columns: ReadonlyArray<ColumnDef<Row>>
  readonly rows: (s: { readonly cluster: ClusterView, readonly health: HealthView, readonly metrics: Metrics }) => readonly Row[]
}
