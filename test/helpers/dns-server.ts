/// A tiny authoritative DNS server on UDP loopback for the DNS blocklist tests: answers A queries
/// for names in `records` (with the given TTL), NXDOMAIN for the rest, and counts the queries.
/// Hand-written (RFC 1035 §4.1: header, question, one answer with a name pointer): a dozen lines,
/// where a Debian DNS server would need a zone file, a config and root to bind.
import { createSocket, type Socket } from 'node:dgram'

export interface TestDns { readonly port: number, readonly queries: string[], close (): Promise<void> }

function questionName (msg: Buffer): { name: string, end: number } {
  const labels: string[] = []
  let at = 12
  for (let len = msg[at] ?? 0; len !== 0; len = msg[at] ?? 0) {
    labels.push(msg.subarray(at + 1, at + 1 + len).toString('latin1'))
    at += len + 1
  }
  return { name: labels.join('.').toLowerCase(), end: at + 5 } // zero label, type, class
}

export async function startDns (records: ReadonlyMap<string, string>, ttl = 300): Promise<TestDns> {
  const socket: Socket = createSocket('udp4')
  const queries: string[] = []
  socket.on('message', (msg, peer) => {
    if (msg.length < 17) return
    const { name, end } = questionName(msg)
    queries.push(name)
    const address = records.get(name)
    const header = Buffer.alloc(12)
    msg.copy(header, 0, 0, 2) // id
    header.writeUInt16BE(0x8400 | (address === undefined ? 3 : 0), 2) // response, authoritative, rcode
    header.writeUInt16BE(1, 4)
    header.writeUInt16BE(address === undefined ? 0 : 1, 6)
    const question = msg.subarray(12, end)
    const answer = address === undefined
      ? Buffer.alloc(0)
      : Buffer.concat([Buffer.from([0xc0, 12, 0, 1, 0, 1]), Buffer.from([ttl >>> 24, (ttl >>> 16) & 255, (ttl >>> 8) & 255, ttl & 255, 0, 4]), Buffer.from(address.split('.').map(Number))])
    socket.send(Buffer.concat([header, question, answer]), peer.port, peer.address)
  })
  await new Promise<void>(resolve => socket.bind(0, '127.0.0.1', resolve))
  return { port: socket.address().port, queries, close: async () => { await new Promise<void>(resolve => socket.close(() => { resolve() })) } }
}
