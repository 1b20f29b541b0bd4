/// Serialises ICAP responses: 100 Continue, 204, 206 with use-original-body, the 200 echo of the
/// original message, the 200 block page with the three verdict headers, and errors. Each header
/// block names its parts in Encapsulated with offsets computed from the bytes actually written, and
/// a reply without a body says `null-body` (a stale `res-body` offset breaks Squid).
import { statusLine } from './status.js'
import { formatEncapsulated, type HeaderEntity } from './encapsulated.js'
import { chunkHeader, lastChunk } from './chunked.js'
import { istagFor, optionsFields, serverName, type OptionsSettings } from './options.js'
import type { IcapService } from './services.js'
import type { IcapRequest } from './request.js'
import { renderBlockPage } from '../../src/policy/block-page.js'

/// RFC 3507 §4.5. Always written alone: Squid 5 does not parse a final response that arrives in the
/// same read as the 100 (SQUID-NOTES §1 side quirk).
export const continueResponse = Buffer.from('ICAP/1.0 100 Continue\r\n\r\n', 'latin1')

export interface ResponderOptions {
  readonly nodeId: string
  readonly blockTemplate: string
  /// Current signature-set version (changes on reload; the ISTag follows it).
  readonly dbVersion: () => string
}

export interface EchoResponse {
  /// ICAP head plus the original HTTP header parts.
  readonly head: Buffer
  /// Whether a chunked body follows (the original body for 200, the use-original-body chunk for 206).
  readonly body: boolean
}

/// Header values come from signature names; keep them on one line and printable.
function headerSafe (text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?')
}

export class Responder {
  readonly #options: ResponderOptions
  #dateSecond = -1
  #date = ''
  #istagVersion: string | undefined
  #istag = ''

  constructor (options: ResponderOptions) { this.#options = options }

  get istag (): string {
    const version = this.#options.dbVersion()
    if (version !== this.#istagVersion) {
      this.#istagVersion = version
      this.#istag = istagFor(version)
    }
    return this.#istag
  }

  #common (close: boolean): string {
    const second = Math.floor(Date.now() / 1000)
    if (second !== this.#dateSecond) {
      this.#dateSecond = second
      this.#date = new Date(second * 1000).toUTCString()
    }
    return `Date: ${this.#date}\r\nServer: ${serverName}\r\nISTag: ${this.istag}\r\nConnection: ${close ? 'close' : 'keep-alive'}\r\n`
  }

  /// A reply without an encapsulated message: 204, and every error status.
  simple (status: number, close: boolean, extra = ''): Buffer {
    return Buffer.from(`${statusLine(status)}${this.#common(close)}${extra}Encapsulated: null-body=0\r\n\r\n`, 'latin1')
  }

  options (service: IcapService, settings: OptionsSettings, close: boolean): Buffer {
    return Buffer.from(`${statusLine(200)}${this.#common(close)}${optionsFields(service, settings)}Encapsulated: null-body=0\r\n\r\n`, 'latin1')
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

  /// ICAP 200 carrying an HTTP 403 block page, for REQMOD and RESPMOD alike (an HTTP response),
  /// with X-Infection-Found (draft-stecher-icap-subid), X-Violations-Found in c-icap's multi-line
  /// form and X-Virus-ID: Nextcloud, ownCloud and rspamd each read a different one.
  block (threat: string, url: string, service: string, close: boolean): Buffer {
    const page = Buffer.from(renderBlockPage(this.#options.blockTemplate, { threat, url, node: this.#options.nodeId, service }), 'utf8')
    const http = Buffer.from('HTTP/1.1 403 Forbidden\r\n' +
      'Content-Type: text/html; charset=utf-8\r\n' +
      `Content-Length: ${page.length}\r\n` +
      'Cache-Control: no-store\r\n' +
      `X-Virus-ID: ${headerSafe(threat)}\r\n` +
      '\r\n', 'latin1')
    const name = headerSafe(threat)
    const head = `${statusLine(200)}${this.#common(close)}` +
      `X-Infection-Found: Type=0; Resolution=2; Threat=${name};\r\n` +
      `X-Violations-Found: 1\r\n\t-\r\n\t${name}\r\n\t0\r\n\t0\r\n` +
      `X-Virus-ID: ${name}\r\n` +
      `Encapsulated: ${formatEncapsulated([['res-hdr', http.length]], 'res-body')}\r\n\r\n`
    return Buffer.concat([Buffer.from(head, 'latin1'), http, Buffer.from(chunkHeader(page.length), 'latin1'), page, Buffer.from('\r\n' + lastChunk, 'latin1')])
  }
}
