/// Seeded ICAP traffic for the reused-reads differential fuzz test: connections of pipelined REQMOD,
/// RESPMOD and OPTIONS requests (previews with and without ieof, 100 Continue flows, chunk
/// extensions, trailers, bare-LF chunk lines, bodies of 0 bytes to ~300 KiB, long HTTP headers),
/// each request telling the test handler how to answer (X-Fuzz-Answer), with what the client must
/// then read, and the client's byte stream cut into writes with small delays. Everything comes from
/// one seed, so a failure replays with ICAP_FUZZ_SEED.
import { createHash } from 'node:crypto'

/// xorshift128 (Marsaglia): small, fast and the same on every platform; seeded through splitmix32.
export class Prng {
  #a: number
  #b: number
  #c: number
  #d: number

  constructor (seed: number) {
    let s = seed >>> 0
    const mix = (): number => {
      s = (s + 0x9e3779b9) >>> 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.#a = mix() | 1
    this.#b = mix()
    this.#c = mix()
    this.#d = mix()
  }

  /// 32 random bits.
  next (): number {
    const t = this.#a ^ (this.#a << 11)
    this.#a = this.#b
    this.#b = this.#c
    this.#c = this.#d
    this.#d = (this.#d ^ (this.#d >>> 19) ^ t ^ (t >>> 8)) >>> 0
    return this.#d
  }

  /// An integer in [lo, hi].
  int (lo: number, hi: number): number { return lo + Math.floor((this.next() / 0x1_0000_0000) * (hi - lo + 1)) }
  chance (p: number): boolean { return this.next() / 0x1_0000_0000 < p }
  pick<T> (items: readonly T[]): T { return items[this.int(0, items.length - 1)] as T }

  /// `size` random bytes.
  bytes (size: number): Buffer {
    const out = Buffer.allocUnsafe(size)
    let i = 0
    for (; i + 4 <= size; i += 4) out.writeUInt32LE(this.next(), i)
    for (; i < size; i++) out[i] = this.next() & 0xff
    return out
  }

  /// Header-safe text: printable ASCII, now and then a Latin-1 byte (obs-text).
  text (size: number): string {
    let out = ''
    for (let i = 0; i < size; i++) out += String.fromCharCode(this.chance(0.02) ? this.int(0xa0, 0xff) : this.int(0x21, 0x7e))
    return out
  }
}

/// How the test handler answers a request (its X-Fuzz-Answer header).
export type FuzzAnswer = 'allow' | 'modify' | 'trickle' | 'early' | 'options'

/// One response the client reads, as the generator intends it.
export interface ExpectedResponse {
  readonly status: number
  /// The 200 echo of the original message (its HTTP header parts and body), or a trickled one.
  readonly echo: boolean
  /// The 200 replacement whose HTTP body is modifiedBody(body).
  readonly modified: boolean
}

export interface FuzzRequest {
  readonly id: string
  readonly method: 'REQMOD' | 'RESPMOD' | 'OPTIONS'
  readonly answer: FuzzAnswer
  /// The encapsulated body; undefined: null-body.
  readonly body: Buffer | undefined
  readonly bodySha: string
  /// The encapsulated HTTP header parts as sent (latin1).
  readonly reqHdr: string
  readonly resHdr: string
  /// X-Fuzz-Note: a random ICAP header value the handler must see unchanged.
  readonly note: string
  readonly preview: number | undefined
  readonly close: boolean
  /// Bytes up to the end of the preview (all of the request without one) and after 100 Continue.
  readonly first: Buffer
  readonly rest: Buffer
  /// The client waits for the answer to `first` (100 Continue or a final one) before going on.
  readonly waits: boolean
  readonly responses: readonly ExpectedResponse[]
}

/// A run of bytes the client writes, cut into pieces with a pause before each, after which it waits
/// until `responsesBefore` responses arrived.
export interface WriteStep {
  readonly pieces: readonly Buffer[]
  /// Before each piece: -1 none (the same tick), 0 setImmediate, n > 0 a timer of n - 1 ms.
  readonly pauses: readonly number[]
  readonly waitFor: number
}

export interface FuzzConnection {
  readonly index: number
  readonly requests: readonly FuzzRequest[]
  readonly steps: readonly WriteStep[]
  /// Every response the client reads on it, in order.
  readonly responses: readonly ExpectedResponse[]
}

/// The replacement body of a `modify` answer: every byte XOR 0x5a, then reversed.
export function modifiedBody (body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(body.length)
  for (let i = 0, j = body.length - 1; i < body.length; i++, j--) out[j] = (body[i] ?? 0) ^ 0x5a
  return out
}

export function sha256 (bytes: Uint8Array): string { return createHash('sha256').update(bytes).digest('hex') }

function bodySize (rng: Prng): number {
  const bucket = rng.int(0, 99)
  if (bucket < 10) return 0
  if (bucket < 35) return rng.int(1, 256)
  if (bucket < 65) return rng.int(257, 16 * 1024)
  if (bucket < 90) return rng.int(16 * 1024, 100 * 1024)
  return rng.int(100 * 1024, 300 * 1024)
}

function httpHeaders (rng: Prng, startLine: string, length: number | undefined): string {
  let out = startLine + '\r\nHost: origin.test\r\n'
  if (length !== undefined) out += `Content-Length: ${length}\r\n`
  const fields = rng.int(0, 12)
  for (let i = 0; i < fields; i++) out += `X-H${i}: ${rng.text(rng.chance(0.2) ? rng.int(200, 3000) : rng.int(0, 40))}\r\n`
  return out + '\r\n'
}

/// The chunk-size line of `size` bytes: hex in either case, sometimes with extensions, sometimes
/// ended by a bare LF (RFC 9112 §7.1 lets a server accept it; the decoder does).
function sizeLine (rng: Prng, size: number, ext = ''): string {
  const hex = rng.chance(0.3) ? size.toString(16).toUpperCase() : size.toString(16)
  const extra = rng.chance(0.15) ? rng.pick([';a=1', '; name', ';x="q"', ';k=v;j']) : ''
  return hex + extra + ext + (rng.chance(0.05) ? '\n' : '\r\n')
}

/// `data` as chunks of random sizes, then the last chunk (with `lastExt`, maybe a trailer).
function chunked (rng: Prng, data: Buffer, lastExt: string): Buffer {
  const parts: Buffer[] = []
  for (let at = 0; at < data.length;) {
    const size = Math.min(data.length - at, rng.chance(0.5) ? rng.int(1, 64) : rng.int(1, 70_000))
    parts.push(Buffer.from(sizeLine(rng, size), 'latin1'), data.subarray(at, at + size), Buffer.from(rng.chance(0.05) ? '\n' : '\r\n', 'latin1'))
    at += size
  }
  const trailer = lastExt === '' && rng.chance(0.05) ? 'X-Trailer: t\r\n' : ''
  parts.push(Buffer.from(sizeLine(rng, 0, lastExt) + trailer + '\r\n', 'latin1'))
  return Buffer.concat(parts)
}

const status = (s: number, echo = false, modified = false): ExpectedResponse => ({ status: s, echo, modified })

/// What the server answers `r` (icap-server-lite's rules for a handler answering as X-Fuzz-Answer
/// says): 100 Continue after a preview without ieof unless answered from the headers; allow is 204
/// when allowed (always inside a preview), else the 200 echo; trickle streams that echo.
function expectedResponses (answer: FuzzAnswer, hasBody: boolean, preview: number | undefined, ieof: boolean, allow204: boolean): ExpectedResponse[] {
  if (answer === 'options') return [status(200)]
  if (answer === 'early') return [status(200)]
  const continued = hasBody && preview !== undefined && !ieof
  const out = continued ? [status(100)] : []
  if (answer === 'modify') return [...out, status(200, false, true)]
  const may204 = allow204 || (preview !== undefined && !continued)
  return [...out, may204 ? status(204) : status(200, true)]
}

/// `burst`: a large body without a preview, the first of its connection answered after 100 ms.
function makeRequest (rng: Prng, id: string, lastOnConnection: boolean, burst: 'first' | 'next' | undefined): FuzzRequest {
  const roll = burst === undefined ? rng.int(0, 99) : rng.int(4, 99)
  const method = roll < 4 ? 'OPTIONS' : roll < 40 ? 'REQMOD' : 'RESPMOD'
  // Trickle mode is for RESPMOD only.
  const answers = method === 'RESPMOD' ? ['allow', 'allow', 'modify', 'early', 'trickle', 'trickle'] as const : ['allow', 'allow', 'modify', 'early'] as const
  const answer: FuzzAnswer = method === 'OPTIONS' ? 'options' : rng.pick(answers)
  const hasBody = method === 'RESPMOD' || (method === 'REQMOD' && rng.chance(0.85))
  const body = hasBody ? rng.bytes(burst === undefined ? bodySize(rng) : rng.int(200 * 1024, 300 * 1024)) : undefined
  const length = body !== undefined && rng.chance(0.7) ? body.length : undefined
  const reqHdr = method === 'OPTIONS' ? '' : httpHeaders(rng, `${method === 'REQMOD' ? 'POST' : 'GET'} http://origin.test/${id}?q=${rng.text(rng.int(0, 30)).replace(/[^A-Za-z0-9]/g, 'x')} HTTP/1.1`, method === 'REQMOD' ? length : undefined)
  const resHdr = method === 'RESPMOD' ? httpHeaders(rng, 'HTTP/1.1 200 OK', length) : ''
  // Trickle mode only applies where a 200 echo is the clean answer: no Allow: 204.
  const allow204 = answer !== 'trickle' && rng.chance(0.5)
  const preview = body === undefined || burst !== undefined || rng.chance(0.3) ? undefined : rng.pick([0, 1, 16, 100, 1024, 4096, 65_536, rng.int(0, 300_000)])
  const ieof = body !== undefined && preview !== undefined && body.length <= preview
  const close = lastOnConnection && rng.chance(0.2)
  const note = rng.text(rng.int(0, 100)).trim()
  const lines = [`${method} icap://127.0.0.1/scan ICAP/1.0`, 'Host: 127.0.0.1', `X-Fuzz-Id: ${id}`, `X-Fuzz-Answer: ${answer}`,
    `X-Fuzz-Hold: ${rng.int(1, 5000)}`, `X-Fuzz-Delay: ${burst === 'first' ? 100 : rng.chance(0.8) ? 0 : rng.int(1, 3)}`, `X-Fuzz-Note: ${note}`]
  if (allow204) lines.push('Allow: 204')
  if (preview !== undefined) lines.push(`Preview: ${preview}`)
  if (close) lines.push('Connection: close')
  const bodyName = body === undefined ? 'null-body' : method === 'REQMOD' ? 'req-body' : 'res-body'
  if (method === 'REQMOD') lines.push(`Encapsulated: req-hdr=0, ${bodyName}=${reqHdr.length}`)
  else if (method === 'RESPMOD') lines.push(`Encapsulated: req-hdr=0, res-hdr=${reqHdr.length}, ${bodyName}=${reqHdr.length + resHdr.length}`)
  // RFC 9112 §2.2: a blank line before a request line is ignored.
  const head = Buffer.from((rng.chance(0.03) ? '\r\n' : '') + lines.join('\r\n') + '\r\n\r\n' + reqHdr + resHdr, 'latin1')
  let first: Buffer = head
  let rest: Buffer = Buffer.alloc(0)
  if (body !== undefined && preview === undefined) first = Buffer.concat([head, chunked(rng, body, '')])
  if (body !== undefined && preview !== undefined) {
    first = Buffer.concat([head, chunked(rng, body.subarray(0, preview), ieof ? rng.pick(['; ieof', ';ieof', '; ieof; x=1']) : '')])
    if (!ieof) rest = chunked(rng, body.subarray(preview), '')
  }
  const responses = expectedResponses(answer, body !== undefined, preview, ieof, allow204)
  // A client may go on without waiting for 100 Continue (the server holds what follows), and must
  // not send the rest after an answer from the headers alone.
  const waits = rest.length > 0 && (answer === 'early' || rng.chance(0.6))
  return { id, method, answer, body, bodySha: sha256(body ?? Buffer.alloc(0)), reqHdr, resHdr, note, preview, close, first, rest: answer === 'early' ? Buffer.alloc(0) : rest, waits, responses }
}

/// Cuts `bytes` into writes of 1 to `maxPiece` bytes (at least 1/200 of the step, so ~200 writes at
/// most), each after a pause: none, setImmediate or a 0-2 ms timer (none in a burst).
function cut (rng: Prng, bytes: Buffer, maxPiece: number, burst: boolean): { pieces: Buffer[], pauses: number[] } {
  const pieces: Buffer[] = []
  const pauses: number[] = []
  const floor = Math.ceil(bytes.length / 200)
  for (let at = 0; at < bytes.length;) {
    const size = Math.min(bytes.length - at, Math.max(floor, rng.int(1, maxPiece)))
    pieces.push(bytes.subarray(at, at + size))
    const r = rng.int(0, 9)
    pauses.push(burst || r < 4 ? -1 : r < 7 ? 0 : rng.int(1, 3))
    at += size
  }
  return { pieces, pauses }
}

/// Connection `index` of the run seeded `seed`, with `count` requests.
export function fuzzConnection (seed: number, index: number, count: number): FuzzConnection {
  const rng = new Prng((seed ^ Math.imul(index + 1, 0x27d4eb2d)) >>> 0)
  // Now and then a burst: over 1 MiB pipelined behind a slow answer, so the server holds it past
  // its hold limit and pauses reading (pause/resume of a socket reading into the reused buffer).
  const burst = count >= 6 && rng.chance(0.15)
  const requests = Array.from({ length: count }, (_, i) => makeRequest(rng, `c${index}r${i}`, i === count - 1, burst ? (i === 0 ? 'first' : 'next') : undefined))
  const maxPiece = burst ? 200_000 : rng.pick([16, 1500, 16_384, 65_536, 200_000])
  const steps: WriteStep[] = []
  const responses: ExpectedResponse[] = []
  let pending: Buffer[] = []
  const flush = (waitFor: number): void => {
    if (pending.length === 0) return
    steps.push({ ...cut(rng, Buffer.concat(pending), maxPiece, burst), waitFor })
    pending = []
  }
  for (const r of requests) {
    pending.push(r.first)
    if (r.waits) flush(responses.length + 1)
    pending.push(r.rest)
    responses.push(...r.responses)
  }
  flush(responses.length)
  return { index, requests, steps, responses }
}
