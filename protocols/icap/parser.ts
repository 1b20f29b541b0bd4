/// Incremental ICAP request parser: a pure state machine over Buffers (no sockets, no timers).
/// push(chunk) returns the events the new bytes complete. Limits on header bytes and header count
/// are checked as bytes arrive, so an endless header costs at most maxHeaderBytes of memory.
/// The parser pauses itself after a preview's last chunk (the server must answer 100 Continue or a
/// final response first) and after each request's end (one transaction at a time); bytes that
/// arrive meanwhile, such as a pipelined request, are held and parsed on resume. The caller may
/// reuse a chunk once push() returned (the server reads into one buffer: reused-reads.ts): what the
/// parser keeps it copies, and a body event's data is a view to use before the next push().
/// Hand-written: Node's llhttp speaks HTTP only, and ICAP's Encapsulated framing and previews need
/// their own states (c-icap and Squid each hand-roll theirs too).
import { ChunkedDecoder, type ChunkSink } from './chunked.js'
import { parseEncapsulated, nullBody, type Encapsulated } from './encapsulated.js'
import { decimalValue, parseHeaderBlock, tooManyFields, type ParsedBlock } from './headers.js'
import { serviceFromUri, type HttpPart, type IcapMethod, type IcapRequest } from './request.js'
import { statusOf, type IcapErrorCode } from './errors.js'

export interface ParserLimits {
  /// Bytes of the ICAP header block, and of each encapsulated HTTP header part.
  readonly maxHeaderBytes: number
  /// Fields per header block.
  readonly maxHeaderCount: number
  /// Largest declared chunk size.
  readonly maxChunkBytes: number
}

/// Why a request could not be read; `status` is the answer its code has in the error table.
export interface ParseFailure { readonly status: number, readonly code: IcapErrorCode, readonly message: string }

export type IcapEvent =
  | { readonly kind: 'head', readonly request: IcapRequest }
  | { readonly kind: 'body', readonly data: Buffer }
  /// The preview ended without ieof: answer 100 Continue (then afterPreview(true)) or a final response.
  | { readonly kind: 'preview-end' }
  /// The request is complete; `ieof` when it ended inside the preview.
  | { readonly kind: 'end', readonly ieof: boolean }
  /// The stream position is lost: answer `failure.status` and close.
  | { readonly kind: 'error', readonly failure: ParseFailure }

const enum State { Head, Http, Body, AwaitContinue, Done, Failed }

const lf = 0x0a
const cr = 0x0d
const methods: ReadonlySet<string> = new Set(['OPTIONS', 'REQMOD', 'RESPMOD'])
const tokenChars = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const emptyEvents: readonly IcapEvent[] = Object.freeze([])
/// The end of a header block.
const blankLine = Buffer.from('\r\n\r\n', 'latin1')

function bad (message: string, code: IcapErrorCode = 'ICAP_BAD_REQUEST'): ParseFailure {
  return { status: statusOf(code), code, message }
}

/// `ICAP/<digits>.<digits>`.
function isIcapVersion (version: string): boolean {
  const dot = version.indexOf('.')
  return version.startsWith('ICAP/') && dot > 5 && decimalValue(version.slice(5, dot), version.length) >= 0 && decimalValue(version.slice(dot + 1), version.length) >= 0
}

/// The request line `METHOD URI ICAP/1.0`, checked in the order a client's mistake is best told:
/// shape, version syntax, method syntax, method, version, URI; the reason as a string when wrong
/// (an unknown method is a 501, an ICAP version other than 1.0 a 505, the rest 400).
function parseRequestLine (line: string): { method: IcapMethod, uri: string, service: string } | ParseFailure {
  const first = line.indexOf(' ')
  const second = first < 0 ? -1 : line.indexOf(' ', first + 1)
  const method = first < 0 ? line : line.slice(0, first)
  const uri = first < 0 ? '' : line.slice(first + 1, second < 0 ? line.length : second)
  const version = second < 0 ? '' : line.slice(second + 1)
  if (second < 0 || method === '' || uri === '' || version === '' || version.includes(' ')) return bad(`malformed request line '${line.slice(0, 80)}'`)
  // The common case first: a known method (a token by construction) and ICAP/1.0.
  if (!methods.has(method)) {
    if (!isIcapVersion(version)) return bad(`malformed ICAP version '${version.slice(0, 20)}'`)
    if (!tokenChars.test(method)) return bad(`malformed method '${method.slice(0, 20)}'`)
    return bad(`method ${method.slice(0, 20)} not implemented`, 'ICAP_NOT_IMPLEMENTED')
  }
  if (version !== 'ICAP/1.0') {
    if (!isIcapVersion(version)) return bad(`malformed ICAP version '${version.slice(0, 20)}'`)
    return bad(`version ${version} not supported`, 'ICAP_VERSION_NOT_SUPPORTED')
  }
  const service = serviceFromUri(uri)
  if (service === undefined) return bad(`malformed ICAP URI '${uri.slice(0, 80)}'`)
  return { method: method as IcapMethod, uri, service }
}

export class IcapParser {
  readonly #limits: ParserLimits
  readonly #chunks: ChunkedDecoder
  #state = State.Head
  #events: IcapEvent[] = []
  /// Head/Http states: bytes of the block read so far, kept as the chunks they came in.
  #parts: Buffer[] = []
  #partBytes = 0
  #lineBytes = 0
  #lines = 0
  #prevCr = false
  #pendingHead: Omit<IcapRequest, 'reqHdr' | 'resHdr'> | undefined
  #inPreview = false
  #held: Buffer[] = []
  #heldBytes = 0
  readonly #sink: ChunkSink

  constructor (limits: ParserLimits) {
    this.#limits = limits
    this.#chunks = new ChunkedDecoder({ maxLineBytes: 4096, maxChunkBytes: limits.maxChunkBytes, maxTrailers: limits.maxHeaderCount })
    this.#sink = {
      data: bytes => { this.#events.push({ kind: 'body', data: bytes }) },
      last: ieof => {
        if (this.#inPreview && !ieof) {
          this.#state = State.AwaitContinue
          this.#events.push({ kind: 'preview-end' })
        } else {
          this.#state = State.Done
          this.#events.push({ kind: 'end', ieof: ieof && this.#inPreview })
        }
      },
      fail: reason => { this.#failWith(bad(`chunked body: ${reason}`)) },
    }
  }

  /// Bytes received while paused (a pipelined request, or a client that did not wait for 100).
  get heldBytes (): number { return this.#heldBytes }
  /// True between requests: nothing of the next request has been parsed yet.
  get idle (): boolean { return this.#state === State.Head && this.#partBytes === 0 && this.#heldBytes === 0 }
  get failed (): boolean { return this.#state === State.Failed }

  push (chunk: Buffer): readonly IcapEvent[] {
    if (chunk.length === 0 || this.#state === State.Failed) return emptyEvents
    if (this.#paused()) {
      this.#hold(chunk, 0)
      return emptyEvents
    }
    this.#events = []
    this.#run(chunk)
    return this.#events
  }

  /// After `end` (the transaction is answered): parse whatever of the next request is held.
  next (): readonly IcapEvent[] {
    if (this.#state !== State.Done) return emptyEvents
    this.#state = State.Head
    return this.#drainHeld()
  }

  /// After `preview-end`: `true` once 100 Continue went out (the rest of the body follows);
  /// `false` when a final response answered the preview (the request is over; call next()).
  afterPreview (continued: boolean): readonly IcapEvent[] {
    if (this.#state !== State.AwaitContinue) return emptyEvents
    if (!continued) {
      this.#state = State.Done
      return emptyEvents
    }
    this.#state = State.Body
    this.#inPreview = false
    this.#chunks.reset()
    return this.#drainHeld()
  }

  #paused (): boolean { return this.#state === State.Done || this.#state === State.AwaitContinue }

  #hold (chunk: Buffer, from: number): void {
    if (from >= chunk.length) return
    // A copy: the chunk may be a view of a read buffer the server reuses (reused-reads.ts).
    const rest = Buffer.from(from === 0 ? chunk : chunk.subarray(from))
    this.#held.push(rest)
    this.#heldBytes += rest.length
  }

  #drainHeld (): readonly IcapEvent[] {
    this.#events = []
    const held = this.#held
    this.#held = []
    this.#heldBytes = 0
    for (const chunk of held) {
      if (this.#paused() || this.#state === State.Failed) {
        if (this.#state !== State.Failed) this.#hold(chunk, 0)
        continue
      }
      this.#run(chunk)
    }
    return this.#events
  }

  #run (buf: Buffer): void {
    let pos = 0
    while (pos < buf.length) {
      switch (this.#state) {
        case State.Head: pos = this.#head(buf, pos); break
        case State.Http: pos = this.#http(buf, pos); break
        case State.Body: pos = this.#chunks.decode(buf, pos, this.#sink); break
        case State.AwaitContinue:
        case State.Done:
          this.#hold(buf, pos)
          return
        case State.Failed:
          return
      }
    }
  }

  #failWith (failure: ParseFailure): void {
    this.#state = State.Failed
    this.#parts = []
    this.#held = []
    this.#events.push({ kind: 'error', failure })
  }

  /// Collects the ICAP header block line by line (indexOf, not per byte) up to its blank line.
  #head (buf: Buffer, pos: number): number {
    const limit = this.#limits.maxHeaderBytes
    // A whole head at the start of this read, within the limit (the usual case): one search for its
    // end; parseHeaderBlock counts the fields. Else line by line, the limits checked as bytes come.
    if (this.#partBytes === 0 && this.#lines === 0 && this.#lineBytes === 0 && buf[pos] !== cr && buf[pos] !== lf) {
      const end = buf.indexOf(blankLine, pos)
      if (end >= 0 && end + 4 - pos <= limit) {
        this.#headDone(buf.subarray(pos, end + 4))
        return end + 4
      }
    }
    let p = pos
    while (p < buf.length) {
      const nl = buf.indexOf(lf, p)
      if (nl < 0) {
        this.#lineBytes += buf.length - p
        this.#prevCr = buf[buf.length - 1] === cr
        p = buf.length
        break
      }
      const lineBytes = this.#lineBytes + (nl - p)
      const endsCr = nl > p ? buf[nl - 1] === cr : this.#prevCr
      this.#lineBytes = 0
      p = nl + 1
      if (lineBytes === 0 || (lineBytes === 1 && endsCr)) {
        if (this.#lines === 0) continue // RFC 9112 §2.2: ignore blank lines before a request line
        if (this.#partBytes + (p - pos) > limit) { this.#failWith(bad(`ICAP header over ${limit} bytes`, 'ICAP_HEADERS_TOO_LARGE')); return buf.length }
        this.#parts.push(Buffer.from(buf.subarray(pos, p)))
        this.#headDone(this.#take())
        return p
      }
      if (++this.#lines > this.#limits.maxHeaderCount + 1) {
        this.#failWith(bad(`more than ${this.#limits.maxHeaderCount} ICAP header fields`, 'ICAP_HEADERS_TOO_LARGE'))
        return buf.length
      }
    }
    if (this.#partBytes + (p - pos) > limit) { this.#failWith(bad(`ICAP header over ${limit} bytes`, 'ICAP_HEADERS_TOO_LARGE')); return buf.length }
    if (p > pos) {
      this.#parts.push(Buffer.from(buf.subarray(pos, p)))
      this.#partBytes += p - pos
    }
    return p
  }

  /// Joins the collected chunks of a block (one copy, bounded by the limit) and resets the collector.
  #take (): Buffer {
    const parts = this.#parts
    const block = parts.length === 1 && parts[0] !== undefined ? parts[0] : Buffer.concat(parts)
    this.#parts = []
    this.#partBytes = 0
    this.#lines = 0
    this.#lineBytes = 0
    this.#prevCr = false
    return block
  }

  #headDone (block: Buffer): void {
    // Blank lines before the request line were skipped by #head but are still in the block.
    let start = 0
    while (block[start] === cr || block[start] === lf) start++
    const parsed = parseHeaderBlock(start === 0 ? block : block.subarray(start), this.#limits.maxHeaderCount)
    if (typeof parsed === 'string') { this.#failWith(bad(parsed, parsed.startsWith(tooManyFields) ? 'ICAP_HEADERS_TOO_LARGE' : 'ICAP_BAD_REQUEST')); return }
    const requestLine = parseRequestLine(parsed.startLine)
    if ('status' in requestLine) { this.#failWith(requestLine); return }
    const { method, uri, service } = requestLine
    const h = parsed.headers
    let encapsulated: Encapsulated = nullBody
    const encValue = h.get('encapsulated')
    if (encValue === undefined) {
      if (method !== 'OPTIONS') { this.#failWith(bad(`${method} without an Encapsulated header`)); return }
    } else {
      const enc = parseEncapsulated(encValue, method, this.#limits.maxHeaderBytes)
      if (typeof enc === 'string') { this.#failWith(bad(enc)); return }
      encapsulated = enc
    }
    let preview: number | undefined
    const previewValue = h.get('preview')
    if (previewValue !== undefined && encapsulated.body !== 'null-body' && method !== 'OPTIONS') {
      preview = decimalValue(previewValue.trim(), 10)
      if (preview < 0) { this.#failWith(bad(`malformed Preview '${previewValue.slice(0, 20)}'`)); return }
    }
    this.#pendingHead = {
      method,
      uri,
      service,
      headers: h,
      encapsulated,
      preview,
      allow204: h.hasToken('allow', '204'),
      allow206: h.hasToken('allow', '206'),
      close: h.hasToken('connection', 'close'),
    }
    this.#state = State.Http
    if (encapsulated.bodyOffset === 0) this.#httpDone(Buffer.alloc(0))
  }

  /// Reads exactly the bytes the Encapsulated offsets give to the HTTP header parts.
  #http (buf: Buffer, pos: number): number {
    const need = (this.#pendingHead?.encapsulated.bodyOffset ?? 0) - this.#partBytes
    const take = Math.min(need, buf.length - pos)
    this.#parts.push(Buffer.from(buf.subarray(pos, pos + take))) // kept: the HTTP headers' raw bytes
    this.#partBytes += take
    if (take === need) this.#httpDone(this.#take())
    return pos + take
  }

  #httpDone (block: Buffer): void {
    const head = this.#pendingHead
    this.#pendingHead = undefined
    if (head === undefined) return
    let reqHdr: HttpPart | undefined
    let resHdr: HttpPart | undefined
    for (const section of head.encapsulated.headers) {
      const raw = block.subarray(section.offset, section.offset + section.length)
      const parsed: ParsedBlock | string = parseHeaderBlock(raw, this.#limits.maxHeaderCount)
      if (typeof parsed === 'string') { this.#failWith(bad(`encapsulated ${section.name} does not match its Encapsulated offsets: ${parsed}`)); return }
      if (section.name === 'req-hdr') reqHdr = { raw, parsed }
      else resHdr = { raw, parsed }
    }
    // Built field by field (not spread) so every request object has the same shape.
    const request: IcapRequest = {
      method: head.method,
      uri: head.uri,
      service: head.service,
      headers: head.headers,
      encapsulated: head.encapsulated,
      reqHdr,
      resHdr,
      preview: head.preview,
      allow204: head.allow204,
      allow206: head.allow206,
      close: head.close,
    }
    this.#events.push({ kind: 'head', request })
    if (head.encapsulated.body === 'null-body') {
      this.#state = State.Done
      this.#events.push({ kind: 'end', ieof: false })
      return
    }
    this.#inPreview = head.preview !== undefined
    this.#chunks.reset()
    this.#state = State.Body
  }
}
