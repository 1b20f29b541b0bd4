/// The incremental milter parser (the filter side): socket bytes in (`push`), typed commands out, no
/// I/O. Every packet is a 4-byte big-endian length (counting the command byte), the command byte and
/// its data; the length is checked against the packet limit before any data is taken, so an MTA (or
/// anything else) that announces too much is refused at once. A packet that cannot be read (zero
/// length, over the limit, unknown command, missing NUL, short numbers) is `malformed` and the
/// parser stops: the connection closes, as libmilter closes it.
import { Command } from './constants.js'

export type ConnectFamily = 'inet' | 'inet6' | 'unix' | 'unknown'

export type MilterCommand =
  | { readonly kind: 'optneg', readonly version: number, readonly actions: number, readonly steps: number }
  /// Macros for the next command (`command`: its byte as a letter); names without braces.
  | { readonly kind: 'macros', readonly command: string, readonly macros: ReadonlyMap<string, string> }
  | { readonly kind: 'connect', readonly hostname: string, readonly family: ConnectFamily, readonly port: number, readonly address: string }
  | { readonly kind: 'helo', readonly name: string }
  /// MAIL FROM / RCPT TO: the address (angle brackets as sent) and the ESMTP arguments.
  | { readonly kind: 'mail' | 'rcpt', readonly address: string, readonly args: readonly string[] }
  | { readonly kind: 'data' | 'eoh' | 'abort' | 'quit' | 'quitNewConnection' }
  /// A header field: name and value as bytes read as latin1 (so they can be written back unchanged).
  | { readonly kind: 'header', readonly name: string, readonly value: string }
  /// Body bytes (a view of the pushed chunk or of the packet buffer: copy to keep). `eom` may carry
  /// a last piece of body, as libmilter allows.
  | { readonly kind: 'body' | 'eom', readonly bytes: Uint8Array }
  | { readonly kind: 'unknown', readonly line: string }

export type MilterEvent = MilterCommand | { readonly kind: 'malformed', readonly reason: string }

export interface MilterParserLimits {
  /// Largest packet (length field) accepted. Postfix's body packets are 65,536; Sendmail's may be
  /// configured up to 1 MiB.
  readonly maxPacketBytes: number
}

const lengthBytes = 4

export class MilterParser {
  readonly #limits: MilterParserLimits
  readonly #header = Buffer.alloc(lengthBytes + 1)
  #headerBytes = 0
  /// The packet being collected (when it spans pushes) and how much of it is in.
  #packet: Buffer | undefined
  #packetBytes = 0
  #command = 0
  #stopped = false

  constructor (limits: MilterParserLimits) { this.#limits = limits }

  get stopped (): boolean { return this.#stopped }
  stop (): void { this.#stopped = true }

  push (chunk: Uint8Array): MilterEvent[] {
    const events: MilterEvent[] = []
    let at = 0
    while (at < chunk.length && !this.#stopped) {
      if (this.#packet === undefined) {
        const take = Math.min(lengthBytes + 1 - this.#headerBytes, chunk.length - at)
        this.#header.set(chunk.subarray(at, at + take), this.#headerBytes)
        this.#headerBytes += take
        at += take
        // The command byte is read with the length: a packet of length 1 has no data at all.
        if (this.#headerBytes < lengthBytes + 1) {
          if (this.#headerBytes === lengthBytes && this.#checkLength(events)) break
          continue
        }
        if (this.#checkLength(events)) break
        this.#headerBytes = 0
        this.#command = this.#header[lengthBytes] ?? 0
        const dataBytes = this.#header.readUInt32BE(0) - 1
        // The whole packet is in this chunk: decode a view, no copy.
        if (chunk.length - at >= dataBytes) {
          this.#emit(chunk.subarray(at, at + dataBytes), events)
          at += dataBytes
          continue
        }
        this.#packet = Buffer.allocUnsafe(dataBytes)
        this.#packetBytes = 0
      }
      const packet = this.#packet
      const take = Math.min(packet.length - this.#packetBytes, chunk.length - at)
      packet.set(chunk.subarray(at, at + take), this.#packetBytes)
      this.#packetBytes += take
      at += take
      if (this.#packetBytes === packet.length) {
        this.#packet = undefined
        this.#emit(packet, events)
      }
    }
    return events
  }

  /// True (and the parser stopped) when the length field is zero or over the limit.
  #checkLength (events: MilterEvent[]): boolean {
    const length = this.#header.readUInt32BE(0)
    if (length === 0) return this.#fail(events, 'zero packet length')
    if (length > this.#limits.maxPacketBytes) return this.#fail(events, `packet of ${length} bytes over the limit of ${this.#limits.maxPacketBytes}`)
    return false
  }

  #fail (events: MilterEvent[], reason: string): true {
    this.#stopped = true
    events.push({ kind: 'malformed', reason })
    return true
  }

  #emit (data: Uint8Array, events: MilterEvent[]): void {
    const decoded = decode(this.#command, data)
    if (typeof decoded === 'string') this.#fail(events, decoded)
    else events.push(decoded)
  }
}

/// NUL-terminated strings from `at`; a string without its NUL is an error (undefined).
function strings (data: Uint8Array, at: number, encoding: BufferEncoding): string[] | undefined {
  const out: string[] = []
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  while (at < buf.length) {
    const end = buf.indexOf(0, at)
    if (end < 0) return undefined
    out.push(buf.toString(encoding, at, end))
    at = end + 1
  }
  return out
}

const families: Record<string, ConnectFamily> = { 4: 'inet', 6: 'inet6', L: 'unix', U: 'unknown' }

/// One packet's data as a command, or the reason it cannot be one.
function decode (command: number, data: Uint8Array): MilterCommand | string {
  const name = String.fromCharCode(command)
  switch (command) {
    case Command.optneg: {
      if (data.length < 12) return 'option negotiation shorter than 12 bytes'
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
      return { kind: 'optneg', version: view.getUint32(0), actions: view.getUint32(4), steps: view.getUint32(8) }
    }
    case Command.macro: {
      if (data.length < 1) return 'macro packet without a command'
      const list = strings(data, 1, 'utf8')
      if (list === undefined) return 'macro list without its NUL'
      const macros = new Map<string, string>()
      // An odd name without a value is tolerated (some MTAs end the list with one).
      for (let i = 0; i + 1 < list.length; i += 2) macros.set((list[i] ?? '').replace(/^\{(.*)\}$/, '$1'), list[i + 1] ?? '')
      return { kind: 'macros', command: String.fromCharCode(data[0] ?? 0), macros }
    }
    case Command.connect: return connect(data)
    case Command.helo: {
      const list = strings(data, 0, 'utf8')
      return list === undefined ? 'HELO without its NUL' : { kind: 'helo', name: list[0] ?? '' }
    }
    case Command.mail:
    case Command.rcpt: {
      const list = strings(data, 0, 'utf8')
      if (list === undefined || list.length === 0) return `${name} without its NUL-terminated address`
      return { kind: command === Command.mail ? 'mail' : 'rcpt', address: list[0] ?? '', args: list.slice(1) }
    }
    case Command.header: {
      const list = strings(data, 0, 'latin1')
      if (list === undefined || list.length < 2) return 'header without name and value'
      return { kind: 'header', name: list[0] ?? '', value: list[1] ?? '' }
    }
    case Command.body: return { kind: 'body', bytes: data }
    case Command.eom: return { kind: 'eom', bytes: data }
    case Command.data: return { kind: 'data' }
    case Command.eoh: return { kind: 'eoh' }
    case Command.abort: return { kind: 'abort' }
    case Command.quit: return { kind: 'quit' }
    case Command.quitNewConnection: return { kind: 'quitNewConnection' }
    case Command.unknown: {
      const list = strings(data, 0, 'utf8')
      return { kind: 'unknown', line: list?.[0] ?? Buffer.from(data).toString('utf8') }
    }
    default:
      return `unknown command byte 0x${command.toString(16).padStart(2, '0')}`
  }
}

/// CONNECT: hostname, family letter, then (except for family U) the port (uint16) and the address.
function connect (data: Uint8Array): MilterCommand | string {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const end = buf.indexOf(0)
  if (end < 0 || end + 1 >= buf.length) return 'connect without hostname and family'
  const hostname = buf.toString('utf8', 0, end)
  const family = families[String.fromCharCode(buf[end + 1] ?? 0)]
  if (family === undefined) return `connect with unknown family ${JSON.stringify(String.fromCharCode(buf[end + 1] ?? 0))}`
  const rest = end + 2
  if (family === 'unknown' || rest >= buf.length) return { kind: 'connect', hostname, family, port: 0, address: '' }
  if (rest + 2 > buf.length) return 'connect with a short port'
  const port = buf.readUInt16BE(rest)
  const addr = strings(buf, rest + 2, 'utf8')
  if (addr === undefined) return 'connect address without its NUL'
  return { kind: 'connect', hostname, family, port, address: addr[0] ?? '' }
}
