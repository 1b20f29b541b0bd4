/// A fix for net-snmp 3.29's AgentX encoder, applied only when the AgentX sub-agent starts.
/// AgentXPdu.writeOctetString writes an OCTET STRING with SmartBuffer.writeString: a Buffer value
/// (binary data such as DateAndTime, which net-snmp's own SNMP encoder accepts) throws, and a
/// non-ASCII string is sent with its UTF-16 length instead of its byte length. The replacement
/// writes the bytes (RFC 2741 §5.3: length, octets, padding to 4). Idempotent.
import snmp from 'net-snmp'

const patched = Symbol.for('scanwall.agentxOctetStrings')

export function fixAgentxOctetStrings (): void {
  const pdu = snmp.AgentXPdu as typeof snmp.AgentXPdu & { [patched]?: true }
  if (pdu[patched] === true) return
  pdu.writeOctetString = (buffer, value) => {
    const bytes = Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'utf8')
    buffer.writeUInt32BE(bytes.length)
    buffer.writeBuffer(bytes)
    for (let i = 0; i < (4 - bytes.length % 4) % 4; i++) buffer.writeUInt8(0)
  }
  pdu[patched] = true
}
