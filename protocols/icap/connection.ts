/// One ICAP connection: an explicit state machine (idle → reading → answering → idle …, or closing)
/// that drives one transaction at a time. It feeds socket bytes to the parser, answers previews with
/// 100 Continue, drains bodies without back-pressure on the client (the body store may spool; only
/// a disk that cannot keep up pauses the socket), and keeps the bytes of a pipelined next
/// request until the current answer is written. Timers: idle between requests, header-read while a
/// request's headers arrive, body quiet time (a body that stops is aborted), and the Squid bug 5352
/// stall watch on RESPMOD bodies.
import type { Socket } from 'node:net'
import { IcapParser, type IcapEvent, type ParseFailure } from './parser.js'
import { Transaction, squidPipeBytes } from './transaction.js'
import { answer } from './answer.js'
import { continueResponse } from './respond.js'
import { TrickleEcho } from './trickle.js'
import { PhaseTimers, type TimerKind } from './phase-timers.js'
import type { IcapContext } from './context.js'
import { errorMessage, statusOf, statusOfError } from './errors.js'
import { readIntoReusedBuffer } from './reused-reads.js'

type State = 'idle' | 'reading' | 'answering' | 'closing' | 'closed'

/// The local IPv4 address of a connection, without the ::ffff: prefix a dual-stack listener adds.
export function localAddress (socket: Socket): string {
  const address = socket.localAddress ?? '-'
  return address.startsWith('::ffff:') ? address.slice(7) : address
}

/// Pipelined bytes held while answering before the socket is paused.
const holdLimit = 1024 * 1024
/// A trickled echo the client reads slower than the body arrives: past this many unwritten bytes the
/// socket stops reading until it drains (the echo's memory stays bounded).
const trickleBacklogLimit = 4 * 1024 * 1024
/// Preview bytes kept for a trickle that may start; a larger preview is never trickled.
const previewKeepLimit = 1024 * 1024
/// After an error answer: how long to keep reading (and discarding) before the socket is destroyed,
/// so the client reads the answer instead of a reset.
const lingerMs = 2_000

export class IcapConnection {
  readonly #socket: Socket
  readonly #ctx: IcapContext
  readonly #parser: IcapParser
  readonly #onClosed: (conn: IcapConnection) => void
  #state: State = 'idle'
  #tx: Transaction | undefined
  /// The idle, header or body timer in force.
  readonly #timers: PhaseTimers
  /// The transaction whose RESPMOD body is watched for Squid's stall, and the watch's timer (kept,
  /// as the others are).
  #stallTx: Transaction | undefined
  #stallTimer: NodeJS.Timeout | undefined
  #stallTimerMs = 0
  #closeAfter = false
  #peerEnded = false
  #paused = false
  /// Aborted when the connection goes away; the signal every transaction of it hands the handler.
  readonly #abort = new AbortController()
  readonly remote: string
  /// The address the client connected to (a cluster's virtual address, or the node's own).
  readonly local: string
  /// Whether this connection reads into the server's reused buffer (else 'data' events).
  readonly reusedReads: boolean

  constructor (socket: Socket, ctx: IcapContext, onClosed: (conn: IcapConnection) => void) {
    this.#socket = socket
    this.#ctx = ctx
    this.#onClosed = onClosed
    this.#parser = new IcapParser(ctx.limits)
    this.#timers = new PhaseTimers(ctx.options, kind => { this.#onTimeout(kind) })
    this.remote = socket.remoteAddress ?? '-'
    this.local = localAddress(socket)
    socket.setNoDelay(true)
    // Reads into the server's one read buffer where Node lets us (reused-reads.ts): every view of a
    // chunk that outlives #onData is copied (#onBody, the parser's held bytes and split headers).
    // Off (options.reusedReads false: no buffer), or not possible here: a fresh Buffer per read.
    this.reusedReads = ctx.readBuffer !== undefined && readIntoReusedBuffer(socket, ctx.readBuffer, chunk => { this.#onData(chunk) })
    if (!this.reusedReads) socket.on('data', (chunk: Buffer) => { this.#onData(chunk) })
    socket.on('error', err => { ctx.log.debug({ remote: this.remote, err: err.message }, 'icap socket error') })
    socket.on('end', () => { this.#onPeerEnd() })
    socket.on('close', () => { this.#onClose() })
    socket.on('drain', () => { this.#flow() })
    this.#timers.arm('idle')
  }

  get state (): State { return this.#state }

  /// Finish the current transaction, answer it with `Connection: close`, then close. Idle: close now.
  drain (): void {
    this.#closeAfter = true
    if (this.#state === 'idle' && this.#parser.idle) this.#close()
  }

  destroy (): void { this.#socket.destroy() }

  #onData (chunk: Buffer): void {
    if (this.#state === 'closing' || this.#state === 'closed') return
    if (this.#state === 'idle') {
      this.#state = 'reading'
      this.#timers.arm('header')
    }
    this.#handle(this.#parser.push(chunk))
    this.#flow()
  }

  #handle (events: readonly IcapEvent[]): void {
    for (const event of events) {
      if (this.#state === 'closing' || this.#state === 'closed') return
      switch (event.kind) {
        case 'head': this.#onHead(new Transaction(event.request, this.#ctx, this.remote, this.local, this.#abort)); break
        case 'body': this.#onBody(event.data); break
        case 'preview-end': this.#onPreviewEnd(); break
        case 'end': this.#onEnd(event.ieof); break
        case 'error': this.#onParseError(event.failure); break
      }
    }
  }

  #onHead (tx: Transaction): void {
    this.#timers.disarm()
    this.#tx = tx
    if (tx.hasBody) this.#timers.arm('body')
    if (tx.wantsBody()) tx.writer = this.#ctx.handler.bodies.open(tx.declared)
    if (tx.request.preview !== undefined) return
    // Without a preview the whole body follows at once: a trickle starts now; else watch the body
    // for Squid's stall from the start.
    this.#startTrickle(tx)
    if (tx.trickle !== undefined) tx.trickle.open()
    else if (tx.request.method === 'RESPMOD' && tx.hasBody) this.#watchStall(tx)
  }

  /// Trickle mode when the handler wants it for this transaction (IcapHandler.trickle).
  #startTrickle (tx: Transaction): void {
    const ctx = this.#ctx
    if (!tx.mayTrickle(ctx) || tx.previewDataBytes > previewKeepLimit || tx.service === undefined) return
    const plan = ctx.handler.trickle?.(tx.info(ctx, tx.service))
    if (plan === undefined) return
    const close = tx.request.close || ctx.isDraining(this.local) || this.#closeAfter || this.#peerEnded
    tx.trickle = new TrickleEcho(this.#socket, ctx.responder.echo(tx.request, 200, close).head, plan.holdBackBytes)
    for (const data of tx.previewData) tx.trickle.push(data) // copies already (#onBody)
  }

  #onBody (data: Buffer): void {
    const tx = this.#tx
    if (tx === undefined) return
    tx.bodyBytes += data.length
    this.#timers.rearm() // the body timer measures quiet time, not the whole body
    if (this.#stallTx === tx) tx.lastBodyAt = performance.now()
    const trickle = tx.trickle
    if (trickle !== undefined) {
      // With a preview, the 200 starts with the first bytes after 100 Continue (never in its read).
      if (!trickle.started) trickle.open()
      // Copied: the echo keeps bytes (held back, or queued in the socket) past this read.
      trickle.push(Buffer.from(data))
    } else if (!tx.continued && tx.request.preview !== undefined && tx.previewDataBytes <= previewKeepLimit && tx.mayTrickle(this.#ctx)) {
      tx.previewData.push(Buffer.from(data)) // kept for a trickle that may start after this read
      tx.previewDataBytes += data.length
    }
    const writer = tx.writer
    if (writer === undefined) return
    if (!tx.overLimit && tx.bodyBytes > this.#ctx.options.maxBodyBytes) {
      tx.overLimit = true
      if (!tx.wantsBody()) {
        tx.writer = undefined
        void writer.discard()
        return
      }
    }
    const pending = writer.write(data)
    if (pending !== undefined) {
      const size = data.length
      const gate = this.#ctx.spoolGate
      gate.queue(tx.spoolBacklog, size)
      tx.spoolBacklog += size
      void pending.then(() => {
        tx.spoolBacklog -= size
        gate.written(tx.spoolBacklog, size)
        if (this.#tx === tx) this.#flow()
      })
    }
  }

  #onPreviewEnd (): void {
    const tx = this.#tx
    if (tx === undefined) return
    // Answers that need none of the rest of the body end the transaction inside the preview: a
    // rejection, or a body known to be over the limit (the handler decides it from what it declared;
    // inside the preview 204 is always possible, so no echo needs the rest).
    if (tx.rejection !== undefined || tx.overLimit || tx.early !== undefined) {
      this.#parser.afterPreview(false)
      this.#complete(tx)
      return
    }
    // RFC 3507 §4.5: the rest comes after 100 Continue. Written alone, never with the final answer.
    this.#socket.write(continueResponse)
    tx.continued = true
    this.#startTrickle(tx)
    tx.previewData.length = 0
    // A trickle keeps Squid moving; a held body is watched for its stall.
    if (tx.request.method === 'RESPMOD' && tx.trickle === undefined) this.#watchStall(tx)
    this.#handle(this.#parser.afterPreview(true))
  }

  #onEnd (ieof: boolean): void {
    const tx = this.#tx
    if (tx === undefined) return
    tx.endedInPreview = ieof
    this.#complete(tx)
  }

  #complete (tx: Transaction): void {
    this.#timers.disarm()
    this.#state = 'answering'
    this.#stopStall()
    void this.#answer(tx)
  }

  async #answer (tx: Transaction): Promise<void> {
    const ctx = this.#ctx
    let close = tx.request.close || ctx.isDraining(this.local) || this.#closeAfter
    try {
      // A client that half-closed after its request still gets the answer (allowHalfOpen).
      close ||= this.#peerEnded
      await answer(tx, ctx, this.#socket, close)
      if (tx.outcome === 'aborted') close = true
    } catch (err) {
      close = true
      if (this.#socket.destroyed || tx.controller.signal.aborted) {
        tx.outcome = 'aborted'
      } else {
        tx.outcome = 'error'
        ctx.log.error({ err: errorMessage(err), method: tx.request.method, url: tx.url }, 'icap transaction failed')
        if (tx.status === 0) {
          tx.status = statusOfError(err)
          this.#socket.write(ctx.responder.simple(tx.status, true))
        } else {
          // The answer was partly written: a truncated reply is all that is left to give.
          this.#socket.destroy()
        }
      }
    } finally {
      const writer = tx.writer
      tx.writer = undefined
      if (writer !== undefined) await writer.discard()
    }
    this.#finishTx(tx)
    if (this.#socket.destroyed) return
    if (close || this.#peerEnded) this.#close()
    else this.#nextRequest()
  }

  #nextRequest (): void {
    this.#tx = undefined
    this.#state = 'idle'
    const events = this.#parser.next()
    if (!this.#parser.idle || events.length > 0) {
      this.#state = 'reading'
      this.#timers.arm('header')
    } else {
      this.#timers.arm('idle')
    }
    this.#handle(events)
    this.#flow()
  }

  #onParseError (failure: ParseFailure): void {
    const tx = this.#tx
    const ctx = this.#ctx
    ctx.emit('protocolError', { failure, remote: this.remote })
    if (tx !== undefined) {
      tx.status = failure.status
      tx.outcome = 'error'
      tx.controller.abort()
      const writer = tx.writer
      tx.writer = undefined
      void writer?.discard()
      this.#finishTx(tx)
    } else {
      ctx.log.warn({ remote: this.remote, status: failure.status, code: failure.code, reason: failure.message }, 'icap request rejected')
    }
    this.#close(ctx.responder.simple(failure.status, true))
  }

  /// Ends the connection after an optional last answer; keeps reading (and dropping) for a moment so
  /// a client still sending gets the answer rather than a reset.
  #close (last?: Buffer): void {
    if (this.#state === 'closing' || this.#state === 'closed') return
    this.#state = 'closing'
    this.#clearTimers()
    if (this.#paused) this.#socket.resume()
    if (last === undefined) this.#socket.end()
    else this.#socket.end(last)
    setTimeout(() => this.#socket.destroy(), lingerMs).unref()
  }

  /// The client sent FIN. Between requests: close. Mid-request: the request can never complete, so
  /// it is aborted. While answering: finish the answer, then close.
  #onPeerEnd (): void {
    this.#peerEnded = true
    if (this.#state === 'answering') return
    if (this.#state === 'idle' || this.#state === 'reading') {
      if (this.#state === 'reading') this.#socket.destroy()
      else this.#close()
    }
  }

  #onClose (): void {
    const prior = this.#state
    this.#state = 'closed'
    this.#clearTimers()
    const tx = this.#tx
    if (tx !== undefined && !tx.finished) {
      tx.outcome = 'aborted'
      tx.controller.abort()
      // While answering, #answer settles (the scan sees the abort) and logs; while reading, log here.
      if (prior === 'reading') {
        const writer = tx.writer
        tx.writer = undefined
        void writer?.discard()
        this.#finishTx(tx)
      }
    }
    this.#onClosed(this)
  }

  /// The transaction's record, exactly once per transaction.
  #finishTx (tx: Transaction): void {
    if (tx.finished) return
    tx.finished = true
    this.#ctx.emit('transaction', tx.record())
  }

  /// Pauses reading only when pipelined bytes pile up or the spool disk falls behind (this
  /// transaction queued more than its share of the server-wide spool budget).
  #flow (): void {
    if (this.#state === 'closing' || this.#state === 'closed') return
    const backlog = this.#tx?.spoolBacklog ?? 0
    const echoing = this.#tx?.trickle !== undefined && this.#state === 'reading'
    const pause = this.#parser.heldBytes > holdLimit || (backlog > 0 && backlog > this.#ctx.spoolGate.share) ||
      (echoing && this.#socket.writableLength > trickleBacklogLimit)
    if (pause === this.#paused) return
    this.#paused = pause
    if (pause) {
      this.#socket.pause()
    } else {
      this.#socket.resume()
      if (this.#tx !== undefined) this.#timers.rearm() // quiet time while we paused is ours, not the client's
    }
  }

  /// No timer of this connection fires any more (it closed, or is closing).
  #clearTimers (): void {
    this.#timers.clear()
    this.#stopStall()
    if (this.#stallTimer !== undefined) clearTimeout(this.#stallTimer)
  }

  #onTimeout (kind: TimerKind): void {
    if (kind === 'idle') {
      if (this.#state === 'idle') this.#close()
      return
    }
    if (kind === 'body') {
      // A body that stopped can never be scanned whole: abort it as a client that went away would.
      const tx = this.#tx
      if (this.#state !== 'reading' || tx === undefined) return
      this.#ctx.log.warn({ remote: this.remote, url: tx.url, bytes: tx.bodyBytes, timeoutMs: this.#ctx.options.bodyTimeoutMs }, 'icap body read timed out')
      this.#socket.destroy()
      return
    }
    if (this.#state !== 'reading' || this.#tx !== undefined) return
    this.#ctx.log.warn({ remote: this.remote, timeoutMs: this.#ctx.options.headerTimeoutMs }, 'icap header read timed out')
    this.#close(this.#ctx.responder.simple(statusOf('ICAP_REQUEST_TIMEOUT'), true))
  }

  /// Squid bug 5352 (SQUID-NOTES §3.3): a RESPMOD body that stops after exactly Squid's pipe size
  /// without its last chunk is Squid waiting for us, not a slow origin. Warn once, and count it.
  #watchStall (tx: Transaction): void {
    const ms = this.#ctx.options.bodyStallWarnMs
    if (ms <= 0) return
    tx.lastBodyAt = performance.now()
    this.#stallTx = tx
    this.#stallIn(ms)
  }

  /// The stall check in `ms`: the kept timer refreshed when it runs for that long (the usual case,
  /// a full period from the start of a body), else a new one.
  #stallIn (ms: number): void {
    if (this.#stallTimer !== undefined && this.#stallTimerMs === ms) {
      this.#stallTimer.refresh()
      return
    }
    if (this.#stallTimer !== undefined) clearTimeout(this.#stallTimer)
    this.#stallTimerMs = ms
    this.#stallTimer = setTimeout(() => { this.#checkStall() }, ms).unref()
  }

  /// A body quiet for bodyStallWarnMs by now is reported; one that moved meanwhile is looked at
  /// again when it will have been quiet that long.
  #checkStall (): void {
    const ms = this.#ctx.options.bodyStallWarnMs
    const tx = this.#stallTx
    if (tx === undefined || this.#tx !== tx || tx.finished || this.#state !== 'reading') return
    const quiet = performance.now() - tx.lastBodyAt
    if (quiet < ms) { this.#stallIn(Math.max(1, Math.ceil(ms - quiet))); return }
    if (tx.bodyBytes >= squidPipeBytes && !tx.stallWarned) {
      tx.stallWarned = true
      this.#stallTx = undefined
      this.#ctx.emit('stall', { url: tx.url, bytes: tx.bodyBytes, client: tx.clientIp ?? this.remote })
      this.#ctx.log.warn({ url: tx.url, bytes: tx.bodyBytes, quietMs: Math.round(quiet), client: tx.clientIp ?? this.remote },
        'Squid bug 5352 stall suspected: RESPMOD body stopped after Squid\'s 64 KiB pipe filled; add the no-op delay pool to squid.conf or upgrade Squid to 6.14+')
      return
    }
    this.#stallIn(ms)
  }

  #stopStall (): void {
    this.#stallTx = undefined
  }
}
