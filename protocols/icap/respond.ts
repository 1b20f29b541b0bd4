/// Serialises ICAP responses: 100 Continue, 204, 206 with use-original-body, the 200 echo of the
/// original message, the 200 carrying a replacement HTTP response (a block page), and errors. Each
/// header block names its parts in Encapsulated with offsets computed from the bytes actually
/// written, and a reply without a body says `null-body` (a stale `res-body` offset breaks Squid).
import { statusLine } from './status.js'
import { formatEncapsulated, type HeaderEntity } from './encapsulated.js'
import { chunkHeader, lastChunk } from './chunked.js'
import { optionsFields, defaultServerName, type OptionsSettings } from './options.js'
import type { IcapService } from './services.js'
import type { IcapRequest } from './request.js'
import type { HeaderField, HttpReply } from './handler.js'

/// RFC 3507 §4.5. Always written alone: Squid 5 does not parse a final response that arrives in the
/// same read as the 100 (SQUID-NOTES §1 side quirk).
export const continueResponse = Buffer.from('ICAP/1.0 100 Continue\r\n\r\n', 'latin1')

export interface ResponderOptions {
  readonly serverName?: string | undefined
  /// The current ISTag, quoted (it changes when what judges the content changes).
  readonly istag: () => string
  /// Lines every answer carries after Connection (e.g. which node answered).
  readonly answerHeaders?: readonly HeaderField[] | undefined
}

export interface EchoResponse {
  /// ICAP head plus the original HTTP header parts.
  readonly head: Buffer
  /// Whether a chunked body follows (the original body for 200, the use-original-body chunk for 206).
  readonly body: boolean
}

/// Header values come from signature names and applications; keep them on one line and printable.
export function headerSafe (text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?')
}

/// Header lines; a value may span lines as obs-fold (CRLF then a tab), as c-icap's
/// X-Violations-Found does: each line is made safe on its own.
function fieldLines (fields: readonly HeaderField[]): string {
  let out = ''
  for (const [name, value] of fields) out += `${headerSafe(name)}: ${value.split(/\r\n[\t ]/).map(headerSafe).join('\r\n\t')}\r\n`
  return out
}

export class Responder {
  readonly #istag: () => string
  readonly #server: string
  readonly #extra: string
  #dateSecond = -1
  #date = ''
  /// simple() answers of the current second and ISTag, by status (negative: Connection: close).
  readonly #simple = new Map<number, Buffer>()
  #simpleSecond = -1
  #simpleIstag = ''

  constructor (options: ResponderOptions) {
    this.#istag = options.istag
    this.#server = options.serverName ?? defaultServerName
    this.#extra = fieldLines(options.answerHeaders ?? [])
  }

  get serverName (): string { return this.#server }

  #common (close: boolean): string {
    const second = Math.floor(Date.now() / 1000)
    if (second !== this.#dateSecond) {
      this.#dateSecond = second
      this.#date = new Date(second * 1000).toUTCString()
    }
    return `Date: ${this.#date}\r\nServer: ${this.#server}\r\nISTag: ${this.#istag()}\r\nConnection: ${close ? 'close' : 'keep-alive'}\r\n${this.#extra}`
  }

  /// A reply without an encapsulated message: 204, and every error status. Without `extra`, the same
  /// bytes serve every answer of one status within one second and ISTag: a 204 per clean object was
  /// rebuilt (string, then Buffer) each time, a visible part of a 4 KiB request's CPU (issue #10).
  simple (status: number, close: boolean, extra = ''): Buffer {
    if (extra !== '') return this.#buildSimple(status, close, extra)
    const second = Math.floor(Date.now() / 1000)
    const istag = this.#istag()
    if (second !== this.#simpleSecond || istag !== this.#simpleIstag) {
      this.#simple.clear()
      this.#simpleSecond = second
      this.#simpleIstag = istag
    }
    const key = close ? -status : status
    let reply = this.#simple.get(key)
    if (reply === undefined) {
      reply = this.#buildSimple(status, close, '')
      this.#simple.set(key, reply)
    }
    return reply
  }

  #buildSimple (status: number, close: boolean, extra: string): Buffer {
    return Buffer.from(`${statusLine(status)}${this.#common(close)}${extra}Encapsulated: null-body=0\r\n\r\n`, 'latin1')
  }

  options (service: IcapService, settings: OptionsSettings, close: boolean): Buffer {
    return Buffer.from(`${statusLine(200)}${this.#common(close)}${optionsFields(service, settings, this.#server)}Encapsulated: null-body=0\r\n\r\n`, 'latin1')
  }

  /// The original message handed back: 200 with its header parts and (if it had one) its body to
  /// follow chunked; or 206 whose body is the single `0; use-original-body=0` chunk that tells the
  /// client to reuse the body it still holds (Squid's ICAP partial-content extension).
  echo (request: IcapRequest, status: 200 | 206, close: boolean): EchoResponse {
    const parts: Array<readonly [HeaderEntity, number]> = []
    const raws: Buffer[] = []
    const part = request.method === 'REQMOD' ? request.reqHdr : request.resHdr
    const name: HeaderEntity = request.method === 'REQMOD' ? 'req-hdr' : 'res-hdr'
    if (part !== undefined) {
      parts.push([name, part.raw.length])
      raws.push(part.raw)
    }
    const hasBody = request.encapsulated.body === 'req-body' || request.encapsulated.body === 'res-body'
    const bodyName = !hasBody ? 'null-body' : request.method === 'REQMOD' ? 'req-body' : 'res-body'
    const head = `${statusLine(status)}${this.#common(close)}Encapsulated: ${formatEncapsulated(parts, bodyName)}\r\n\r\n`
    const tail = status === 206 && hasBody ? [Buffer.from('0; use-original-body=0\r\n\r\n', 'latin1')] : []
    return { head: Buffer.concat([Buffer.from(head, 'latin1'), ...raws, ...tail]), body: status === 200 && hasBody }
  }

  /// ICAP 200 carrying a new HTTP response in place of the message (REQMOD and RESPMOD alike: a
  /// REQMOD answered with a response never reaches the origin), after the handler's ICAP lines.
  /// Content-Length is set from the body (where the handler placed it, else last); an empty body is
  /// sent as null-body.
  replace (reply: HttpReply, icapHeaders: readonly HeaderField[], close: boolean): Buffer {
    const length: HeaderField = ['Content-Length', String(reply.body.length)]
    const fields = reply.headers.map(f => f[0].toLowerCase() === 'content-length' ? length : f)
    if (!fields.includes(length)) fields.push(length)
    const http = Buffer.from(`HTTP/1.1 ${reply.status} ${headerSafe(reply.reason)}\r\n${fieldLines(fields)}\r\n`, 'latin1')
    const hasBody = reply.body.length > 0
    const head = `${statusLine(200)}${this.#common(close)}${fieldLines(icapHeaders)}` +
      `Encapsulated: ${formatEncapsulated([['res-hdr', http.length]], hasBody ? 'res-body' : 'null-body')}\r\n\r\n`
    if (!hasBody) return Buffer.concat([Buffer.from(head, 'latin1'), http])
    return Buffer.concat([Buffer.from(head, 'latin1'), http, Buffer.from(chunkHeader(reply.body.length), 'latin1'), reply.body, Buffer.from('\r\n' + lastChunk, 'latin1')])
  }
}
