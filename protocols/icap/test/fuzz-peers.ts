/// The two ends of the reused-reads differential fuzz test other than the server: a handler that
/// records what every transaction gave it (ICAP note, HTTP header bytes, the body hashed as it was
/// written and as the package's MemoryBodyStore kept it) and answers as the request's X-Fuzz-Answer
/// says; and a client that writes one connection's steps to several servers at once and reads
/// their responses, split by responseEnd.
import { createHash, type Hash } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { MemoryBodyStore, allowAnswer, blockAnswer, responseEnd, type BodyStore, type BodyWriter, type IcapAnswer, type IcapHandler, type IcapTransactionInfo, type ReceivedBody, type TricklePlan } from '../index.js'
import { modifiedBody, sha256, type FuzzConnection } from './fuzz-traffic.js'

/// A body as the fuzz handler's store keeps it.
export interface HashedBody {
  readonly bytes: Buffer
  /// SHA-256 and size of the bytes as write() was handed them (views valid during the call).
  readonly streamedSha: string
  readonly streamedBytes: number
}

/// Hashes each chunk while it is valid, and keeps it through the package's MemoryBodyStore (whose
/// copy is what a later read would miss if it kept a view). A slow writer also answers each write
/// with a promise settled later, in order (a disk that lags), so the server's spool gate pauses and
/// resumes the socket.
class HashingWriter implements BodyWriter<HashedBody> {
  readonly #inner = new MemoryBodyStore().open()
  readonly #hash: Hash = createHash('sha256')
  readonly #slow: boolean
  #bytes = 0
  #disk: Promise<void> = Promise.resolve()

  constructor (slow: boolean) { this.#slow = slow }

  write (chunk: Buffer): Promise<void> | undefined {
    this.#hash.update(chunk)
    this.#bytes += chunk.length
    const kept = this.#inner.write(chunk)
    if (!this.#slow) return kept
    // Each write lands 20 ms after it was handed over: a body arriving faster than that piles up
    // past the gate's share (256 KiB at least) and pauses its socket until the disk catches up.
    this.#disk = Promise.all([this.#disk, new Promise(resolve => setTimeout(resolve, 20))]).then(() => {})
    return this.#disk
  }

  async finish (): Promise<HashedBody> {
    return { bytes: await this.#inner.finish(), streamedSha: this.#hash.digest('hex'), streamedBytes: this.#bytes }
  }

  async discard (): Promise<void> { await this.#inner.discard() }
}

class HashingStore implements BodyStore<HashedBody> {
  /// Bodies that declare an odd Content-Length go to a slow writer (the same ones on every server).
  open (expectedSize: number | undefined): BodyWriter<HashedBody> { return new HashingWriter(expectedSize !== undefined && expectedSize % 2 === 1) }
  read (body: HashedBody): Uint8Array { return body.bytes }
  async release (): Promise<void> {}
}

/// What one transaction gave the handler.
export interface Seen {
  readonly via: 'early' | 'respond'
  readonly method: string
  readonly note: string | undefined
  readonly reqHdr: string
  readonly resHdr: string
  readonly echoNeeded: boolean
  readonly trickled: boolean
  /// Absent for a message without a body (and for an early answer).
  readonly body?: { readonly size: number, readonly overLimit: boolean, readonly streamedSha: string, readonly streamedBytes: number, readonly storedSha: string | undefined }
}

const header = (tx: IcapTransactionInfo, name: string): string => tx.request.headers.get(name) ?? ''

function seenOf (tx: IcapTransactionInfo, via: Seen['via']): Omit<Seen, 'body'> {
  const r = tx.request
  return {
    via,
    method: r.method,
    note: r.headers.get('x-fuzz-note'),
    reqHdr: r.reqHdr?.raw.toString('latin1') ?? '',
    resHdr: r.resHdr?.raw.toString('latin1') ?? '',
    echoNeeded: tx.echoNeeded,
    trickled: tx.trickled,
  }
}

/// Answers as each request's X-Fuzz-Answer says (allow / modify / trickle / early), after its
/// X-Fuzz-Delay ms, and records what it was given by X-Fuzz-Id.
export class FuzzHandler implements IcapHandler<HashedBody> {
  readonly bodies = new HashingStore()
  readonly seen = new Map<string, Seen>()
  istag (): string { return '"fuzz-1"' }

  early (tx: IcapTransactionInfo): IcapAnswer<HashedBody> | undefined {
    if (header(tx, 'x-fuzz-answer') !== 'early') return undefined
    const id = header(tx, 'x-fuzz-id')
    this.seen.set(id, seenOf(tx, 'early'))
    return blockAnswer('Fuzz.Early', Buffer.from(`early ${id}`))
  }

  trickle (tx: IcapTransactionInfo): TricklePlan | undefined {
    return header(tx, 'x-fuzz-answer') === 'trickle' ? { holdBackBytes: Number(header(tx, 'x-fuzz-hold')) } : undefined
  }

  async respond (tx: IcapTransactionInfo, body: ReceivedBody<HashedBody> | undefined): Promise<IcapAnswer<HashedBody>> {
    const delay = Number(header(tx, 'x-fuzz-delay'))
    if (delay > 0) await new Promise(resolve => setTimeout(resolve, delay))
    const stored = body?.stored
    const seen: Seen = {
      ...seenOf(tx, 'respond'),
      ...(body === undefined
        ? {}
        : { body: { size: body.size, overLimit: body.overLimit, streamedSha: stored?.streamedSha ?? '', streamedBytes: stored?.streamedBytes ?? -1, storedSha: stored === undefined ? undefined : sha256(stored.bytes) } }),
    }
    this.seen.set(header(tx, 'x-fuzz-id'), seen)
    if (header(tx, 'x-fuzz-answer') !== 'modify') return allowAnswer(tx.echoNeeded ? stored : undefined, 'clean')
    return {
      kind: 'replace',
      verdict: 'modified',
      http: { status: 200, reason: 'OK', headers: [['Content-Type', 'application/octet-stream'], ['Content-Length', '']], body: modifiedBody(stored?.bytes ?? Buffer.alloc(0)) },
    }
  }
}

/// The bytes one socket received, with the count of complete responses in them.
class Received {
  bytes = Buffer.alloc(0)
  responses = 0
  closed = false
  #scanned = 0
  #wake: (() => void) | undefined

  constructor (socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.bytes = Buffer.concat([this.bytes, chunk])
      for (let end = responseEnd(this.bytes, this.#scanned); end > 0; end = responseEnd(this.bytes, this.#scanned)) {
        this.#scanned = end
        this.responses++
      }
      this.#wake?.()
    })
    socket.on('close', () => { this.closed = true; this.#wake?.() })
    socket.on('error', () => {})
  }

  /// Resolves once `n` responses arrived; rejects when the socket closed first or after `ms`.
  async until (n: number, ms: number): Promise<void> {
    const deadline = Date.now() + ms
    while (this.responses < n) {
      if (this.closed) throw new Error(`connection closed after ${this.responses} of ${n} responses`)
      if (Date.now() > deadline) throw new Error(`timed out after ${this.responses} of ${n} responses`)
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, 100)
        this.#wake = () => { clearTimeout(timer); resolve() }
      })
      this.#wake = undefined
    }
  }
}

async function pauseFor (pause: number): Promise<void> {
  if (pause < 0) return
  if (pause === 0) await new Promise(resolve => setImmediate(resolve))
  else await new Promise(resolve => setTimeout(resolve, pause - 1))
}

/// Writes the connection's steps to every port at once (the same pieces, the same pauses), waiting
/// after each step for the responses it must read first; returns each server's response stream.
export async function drive (conn: FuzzConnection, ports: readonly number[], timeoutMs = 20_000): Promise<Buffer[]> {
  const sockets = await Promise.all(ports.map(async port => {
    const socket = connect(port, '127.0.0.1')
    socket.setNoDelay(true)
    await once(socket, 'connect')
    return socket
  }))
  const received = sockets.map(socket => new Received(socket))
  try {
    for (const step of conn.steps) {
      for (const [i, piece] of step.pieces.entries()) {
        await pauseFor(step.pauses[i] ?? -1)
        for (const socket of sockets) socket.write(piece)
      }
      await Promise.all(received.map(async r => { await r.until(step.waitFor, timeoutMs) }))
    }
    await Promise.all(received.map(async r => { await r.until(conn.responses.length, timeoutMs) }))
    for (const socket of sockets) socket.end()
    await Promise.all(sockets.map(async (socket, i) => { if (!(received[i]?.closed ?? true)) await once(socket, 'close') }))
    return received.map(r => r.bytes)
  } finally {
    for (const socket of sockets) socket.destroy()
  }
}
