/// The MTA side of the milter protocol for tests: packets as Postfix sends them (option
/// negotiation offering everything, macros, connect, helo, envelope, headers, body, end, abort,
/// quit), a reader that cuts the filter's replies into packets, and a readable line per packet for
/// transcripts.
import { connect, type Socket } from 'node:net'
import { packet, Command } from '../../protocols/milter/index.js'

const z = (text: string, encoding: BufferEncoding = 'utf8'): Buffer => Buffer.concat([Buffer.from(text, encoding), Buffer.from([0])])
const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b }

/// What Postfix 3.7 offers: version 6, every action, every step flag.
export const postfixOffer = { version: 6, actions: 0x1ff, steps: 0x1fffff }

export const mta = {
  optneg: (o = postfixOffer): Buffer => packet(Command.optneg, Buffer.concat([u32(o.version), u32(o.actions), u32(o.steps)])),
  macros: (command: string, macros: Record<string, string>): Buffer =>
    packet(Command.macro, Buffer.concat([Buffer.from(command, 'latin1'), ...Object.entries(macros).flatMap(([k, v]) => [z(k), z(v)])])),
  connect: (hostname: string, address: string, port = 25000): Buffer => {
    const p = Buffer.alloc(2)
    p.writeUInt16BE(port)
    return packet(Command.connect, Buffer.concat([z(hostname), Buffer.from(address.includes(':') ? '6' : '4'), p, z(address)]))
  },
  helo: (name: string): Buffer => packet(Command.helo, z(name)),
  mail: (sender: string, ...args: string[]): Buffer => packet(Command.mail, Buffer.concat([z(sender), ...args.map(a => z(a))])),
  rcpt: (recipient: string): Buffer => packet(Command.rcpt, z(recipient)),
  data: (): Buffer => packet(Command.data),
  /// A header as Postfix sends it with HDR_LEADSPC: the value keeps its leading space.
  header: (name: string, value: string): Buffer => packet(Command.header, Buffer.concat([z(name, 'latin1'), z(value, 'latin1')])),
  eoh: (): Buffer => packet(Command.eoh),
  body: (bytes: Uint8Array): Buffer => packet(Command.body, bytes),
  eom: (): Buffer => packet(Command.eom),
  abort: (): Buffer => packet(Command.abort),
  quit: (): Buffer => packet(Command.quit),
}

/// A whole message as an MTA sends it after the envelope: headers (from the RFC 5322 text), end of
/// headers, the body in chunks of at most 65,535 bytes, end of message.
export function messagePackets (message: string | Buffer, chunkBytes = 65_535): Buffer[] {
  const bytes = typeof message === 'string' ? Buffer.from(message.replace(/\r?\n/g, '\r\n'), 'latin1') : message
  const split = bytes.indexOf('\r\n\r\n')
  const head = bytes.subarray(0, split < 0 ? bytes.length : split).toString('latin1')
  const body = split < 0 ? Buffer.alloc(0) : bytes.subarray(split + 4)
  const out: Buffer[] = []
  for (const field of head.split(/\r\n(?![ \t])/)) {
    const colon = field.indexOf(':')
    if (colon > 0) out.push(mta.header(field.slice(0, colon), field.slice(colon + 1)))
  }
  out.push(mta.eoh())
  for (let at = 0; at < body.length; at += chunkBytes) out.push(mta.body(body.subarray(at, at + chunkBytes)))
  out.push(mta.eom())
  return out
}

export interface ReplyPacket { readonly command: string, readonly data: Buffer }

/// Cuts a byte stream of filter replies into packets (a partial packet at the end is left out).
export function replyPackets (bytes: Buffer): ReplyPacket[] {
  const out: ReplyPacket[] = []
  let at = 0
  while (at + 5 <= bytes.length) {
    const length = bytes.readUInt32BE(at)
    if (at + 4 + length > bytes.length) break
    out.push({ command: String.fromCharCode(bytes[at + 4] ?? 0), data: bytes.subarray(at + 5, at + 4 + length) })
    at += 4 + length
  }
  return out
}

/// One packet as a readable line: the command letter, then numbers and NUL-separated strings.
export function show (p: ReplyPacket): string {
  const text = (b: Buffer): string => JSON.stringify(b.toString('latin1').replace(/\0$/, '').split('\0'))
  switch (p.command) {
    case 'O': {
      const rest = p.data.subarray(12)
      const lists: string[] = []
      for (let at = 0; at + 4 <= rest.length;) {
        const end = rest.indexOf(0, at + 4)
        lists.push(`${rest.readUInt32BE(at)}=${JSON.stringify(rest.toString('latin1', at + 4, end < 0 ? rest.length : end))}`)
        at = end < 0 ? rest.length : end + 1
      }
      return `O version=${p.data.readUInt32BE(0)} actions=0x${p.data.readUInt32BE(4).toString(16)} steps=0x${p.data.readUInt32BE(8).toString(16)} ${lists.join(' ')}`.trimEnd()
    }
    case 'm':
    case 'i': return `${p.command} ${p.data.readUInt32BE(0)} ${text(p.data.subarray(4))}`
    default: return p.data.length === 0 ? p.command : `${p.command} ${text(p.data)}`
  }
}

/// A connection to a milter server: write packets, wait for a number of reply packets.
export class MilterClient {
  readonly #socket: Socket
  #received = Buffer.alloc(0)
  #closed = false
  readonly #waiters: Array<() => void> = []

  private constructor (socket: Socket) {
    this.#socket = socket
    socket.on('data', (chunk: Buffer) => { this.#received = Buffer.concat([this.#received, chunk]); this.#wake() })
    socket.on('close', () => { this.#closed = true; this.#wake() })
    socket.on('error', () => {})
  }

  static async open (target: { port: number, host?: string } | { path: string }): Promise<MilterClient> {
    const socket = 'path' in target ? connect(target.path) : connect(target.port, target.host ?? '127.0.0.1')
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    return new MilterClient(socket)
  }

  get closed (): boolean { return this.#closed }
  get packets (): ReplyPacket[] { return replyPackets(this.#received) }

  #wake (): void { for (const w of this.#waiters.splice(0)) w() }

  write (...bytes: Buffer[]): void { for (const b of bytes) this.#socket.write(b) }

  /// Resolves with every reply packet once there are at least `count` (or the server closed).
  async replies (count: number, timeoutMs = 30_000): Promise<ReplyPacket[]> {
    const deadline = Date.now() + timeoutMs
    while (this.packets.length < count && !this.#closed) {
      if (Date.now() > deadline) throw new Error(`expected ${count} reply packets, got ${this.packets.length}: ${this.packets.map(show).join(' | ')}`)
      await new Promise<void>(resolve => { this.#waiters.push(resolve); setTimeout(resolve, 100) })
    }
    return this.packets
  }

  async closedByServer (timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this.#closed) {
      if (Date.now() > deadline) throw new Error('server did not close the connection')
      await new Promise<void>(resolve => { this.#waiters.push(resolve); setTimeout(resolve, 100) })
    }
  }

  close (): void { this.#socket.destroy() }
}
