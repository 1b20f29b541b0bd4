/// A fix for net-snmp 3.29's AgentX sub-agent reader, applied to each sub-agent at start.
/// Subagent.onMsg decodes exactly one PDU per socket 'data' event, so when TCP delivers several
/// PDUs at once (snmpd answering a Register and a Notify back to back, as when a trap is sent right
/// after start) all but the first are dropped: their callbacks never run, and close() then waits
/// for a Response it already received. This re-frames the stream by the AgentX header's payload
/// length (RFC 2741 §6.1: 20-byte header, length in the byte order its flags name) and hands
/// onMsg one whole PDU at a time.
import type { Socket } from 'node:net'

interface SubagentInternals { readonly socket: Socket, onMsg: (pdu: Buffer) => void }

const headerBytes = 20
const payloadLengthAt = 16
const networkByteOrderFlag = 0x10

export function frameAgentxReads (subagent: object): void {
  const internals = subagent as SubagentInternals
  const socket = internals.socket
  socket.removeAllListeners('data')
  let pending: Buffer = Buffer.alloc(0)
  socket.on('data', (data: Buffer) => {
    pending = pending.length === 0 ? data : Buffer.concat([pending, data])
    while (pending.length >= headerBytes) {
      const flags = pending[2] ?? 0
      const payload = (flags & networkByteOrderFlag) !== 0 ? pending.readUInt32BE(payloadLengthAt) : pending.readUInt32LE(payloadLengthAt)
      const total = headerBytes + payload
      if (pending.length < total) return
      const pdu = pending.subarray(0, total)
      pending = pending.subarray(total)
      internals.onMsg(pdu)
    }
  })
}
