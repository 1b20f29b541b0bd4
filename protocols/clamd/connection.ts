/// One clamd connection: the parser's events driven through clamd's rules. Outside a session the
/// first command is answered and the connection closed (clients read to EOF); IDSESSION keeps it
/// open, numbers each command's reply (`<id>: `, ids from 1, replies in completion order) and ends
/// at END, at EOF, or at a command a session does not allow. INSTREAM chunks go straight into the
/// handler's stream body (a slow spool pauses the socket). The socket is half-open aware: a client
/// that shuts its write side still reads every reply. Over-limit streams and timeouts are answered
/// before the write side is closed, and input is drained meanwhile so the client reads the line
/// instead of a reset, for as long as a stalled stream would be waited for (a starved client may
/// still be writing seconds later). A connection that closes aborts its scans. What a command
/// answers is answers.ts's; an INSTREAM being received is instream.ts's; the write side and the
/// linger are reply-writer.ts's; the scans' abort signal is scan-abort.ts's.
import type { Socket } from 'node:net'
import { ClamdParser, type ClamdEvent, type Terminator } from './parser.js'
import { isInSessionCommand, type Command } from './commands.js'
import { frame, replies } from './replies.js'
import type { ClamdContext } from './context.js'
import type { ClamdRequestInfo } from './handler.js'
import { answerCommand, noScan, type Answer, type AnswerScope } from './answers.js'
import { Instream } from './instream.js'
import { ReplyWriter } from './reply-writer.js'
import { ScanAbort } from './scan-abort.js'
import { localOf } from '../common/listeners.js'

const defaultMaxPending = 64

export class ClamdConnection {
  readonly #socket: Socket
  readonly #ctx: ClamdContext
  readonly #parser: ClamdParser
  readonly #listener: 'tcp' | 'unix'
  readonly #abort = new ScanAbort()
  readonly #out: ReplyWriter
  readonly #pending = new Set<Promise<void>>()
  readonly remote: string
  readonly local: string
  #session = false
  #nextId = 1
  /// The INSTREAM being received.
  #stream: Instream | undefined
  #finishing = false
  #timer: NodeJS.Timeout | undefined
  #paused = 0
  #ignoring = false
  /// Input that can never become a command (unprefixed inside a session): only the timeout ends it.
  #unreadable = false

  constructor (socket: Socket, ctx: ClamdContext, listener: 'tcp' | 'unix') {
    this.#socket = socket
    this.#ctx = ctx
    this.#listener = listener
    this.#parser = new ClamdParser(ctx.options.limits)
    this.#out = new ReplyWriter(socket, ctx.options.timeouts.readMs)
    this.remote = listener === 'unix' ? 'unix' : socket.remoteAddress ?? '-'
    this.local = localOf(socket)
    socket.on('data', (chunk: Buffer) => { this.#onData(chunk) })
    socket.on('end', () => { this.#onPeerEnd() })
    socket.on('error', err => { ctx.log.debug({ remote: this.remote, err: err.message }, 'clamd socket error') })
    socket.on('close', () => { this.#onClose() })
    this.#arm()
  }

  get closed (): boolean { return this.#out.closed }

  /// Stops reading commands; what is running finishes and is answered, then the connection closes.
  drain (): void {
    // Answered already and only waiting for the client to close: shutting down (or moving the
    // address) does not wait the linger out.
    if (this.#out.lingering) {
      this.#socket.destroy()
      return
    }
    if (this.#stream !== undefined) return // the stream's reply ends it
    void this.#finish()
  }

  destroy (): void { this.#socket.destroy() }

  #info (command: string): ClamdRequestInfo { return { command, remote: this.remote, listener: this.#listener } }

  /// The timer for what the connection is waiting for: a command, the rest of a stream, or the
  /// next command of a session. None while replies are being worked out outside a session.
  #arm (): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#finishing || this.#paused > 0 || (this.#parser.stopped && !this.#unreadable)) return
    const t = this.#ctx.options.timeouts
    const ms = this.#unreadable ? t.commandReadMs : this.#parser.inStream ? t.readMs : this.#session ? t.idleMs : t.commandReadMs
    this.#timer = setTimeout(() => { this.#timedOut() }, ms)
    this.#timer.unref()
  }

  #timedOut (): void {
    this.#ctx.emit('protocolError', { reason: 'read timed out', remote: this.remote })
    this.#stopReading()
    void this.#discardStream()
    void this.#finish([replies.commandReadTimedOut], '\n')
  }

  #onData (chunk: Buffer): void {
    if (this.#parser.stopped) return // lingering after the last reply: discard
    for (const event of this.#parser.push(chunk)) {
      // Events already parsed from this chunk after the connection's last command are dropped.
      if (this.#ignoring) break
      this.#onEvent(event)
    }
    this.#arm()
  }

  /// No more commands are read: the reply in hand is the last.
  #stopReading (): void {
    this.#ignoring = true
    this.#parser.stop()
  }

  #onEvent (event: ClamdEvent): void {
    switch (event.kind) {
      case 'command':
        this.#onCommand(event.command, event.terminator)
        return
      case 'unknown':
        if (this.#session) this.#refuseInSession(event.terminator)
        else this.#final(noScan('UNKNOWN', [replies.unknownCommand]), event.terminator)
        return
      case 'chunk':
        this.#onChunk(event.bytes)
        return
      case 'streamEnd':
        this.#onStreamEnd()
        return
      case 'streamTooLarge': {
        const stream = this.#stream
        void this.#discardStream()
        this.#ctx.emit('protocolError', { reason: 'INSTREAM size limit exceeded', remote: this.remote })
        void this.#finish([replies.sizeLimitExceeded], stream?.terminator ?? '\0', stream?.id)
        return
      }
      case 'malformed':
        // clamd answers neither: it closes (line too long) or waits for the timeout (not prefixed).
        this.#ctx.emit('protocolError', { reason: event.reason, remote: this.remote })
        if (event.reason === 'line too long') void this.#finish()
        else this.#unreadable = true
    }
  }

  #onCommand (command: Command, terminator: Terminator): void {
    if (!this.#session) {
      if (command.name === 'IDSESSION') {
        this.#session = true
        return
      }
      if (command.name === 'INSTREAM') {
        this.#openStream(undefined, terminator)
        return
      }
      this.#stopReading()
      this.#run(command, terminator, undefined)
      return
    }
    if (command.name === 'END') {
      this.#stopReading()
      void this.#finish()
      return
    }
    if (!isInSessionCommand(command.name)) {
      this.#refuseInSession(terminator)
      return
    }
    const id = this.#nextId++
    if (command.name === 'INSTREAM') this.#openStream(id, terminator)
    else this.#run(command, terminator, id)
  }

  #refuseInSession (terminator: Terminator): void {
    this.#stopReading()
    void this.#finish([replies.invalidInSession], terminator, this.#nextId++)
  }

  /// Runs a command that needs no more input: outside a session its reply is the last thing sent.
  #run (command: Command, terminator: Terminator, id: number | undefined): void {
    const started = performance.now()
    const scope: AnswerScope = { info: name => this.#info(name), signal: () => this.#abort.signal }
    const work = answerCommand(command, this.#ctx, scope).then(answer => {
      this.#record(answer, started)
      this.#reply(frame(answer.lines, terminator, id), id)
    })
    this.#track(work)
  }

  #openStream (id: number | undefined, terminator: Terminator): void {
    this.#stream = new Instream(this.#ctx.handler.openStream(this.#info('INSTREAM')), id, terminator)
  }

  #onChunk (bytes: Uint8Array): void {
    const wait = this.#stream?.write(bytes)
    if (wait !== undefined) this.#pauseUntil(wait)
  }

  #onStreamEnd (): void {
    const stream = this.#stream
    if (stream === undefined) return
    this.#stream = undefined
    if (stream.id === undefined) this.#stopReading()
    const work = stream.answer(this.#abort.signal).then(answer => {
      this.#record(answer, stream.started)
      this.#reply(frame(answer.lines, stream.terminator, stream.id), stream.id)
    })
    this.#track(work)
  }

  async #discardStream (): Promise<void> {
    const stream = this.#stream
    this.#stream = undefined
    await stream?.discard()
  }

  #track (work: Promise<void>): void {
    const done = work.catch((err: unknown) => {
      this.#ctx.log.warn({ remote: this.remote, err: err instanceof Error ? err.message : String(err) }, 'clamd command failed')
    }).finally(() => {
      this.#pending.delete(done)
      if (this.#pending.size === (this.#ctx.options.maxPendingPerSession ?? defaultMaxPending) - 1) this.#resume()
    })
    this.#pending.add(done)
    if (this.#pending.size === (this.#ctx.options.maxPendingPerSession ?? defaultMaxPending)) this.#pause()
  }

  #pauseUntil (wait: Promise<void>): void {
    this.#pause()
    wait.then(() => { this.#resume() }, () => { this.#resume() })
  }

  #pause (): void {
    if (this.#paused++ === 0) this.#socket.pause()
    this.#arm()
  }

  #resume (): void {
    if (--this.#paused === 0) this.#socket.resume()
    this.#arm()
  }

  #record (answer: Answer, started: number): void {
    const r = answer.record
    this.#ctx.emit('command', { command: r.command, bytes: r.bytes, result: r.result, threat: r.threat, remote: this.remote, listener: this.#listener, ms: Math.round(performance.now() - started) })
  }

  /// A command's reply. Inside a session: written, the session goes on. Outside: the connection's
  /// last, so it is written and the write side closed in one go (nothing else can be pending: reading
  /// stopped when the command came), unless a finish is already waiting for it.
  #reply (bytes: Buffer, id: number | undefined): void {
    if (id !== undefined || this.#finishing) {
      this.#out.write(bytes)
      if (id === undefined) void this.#finish()
      return
    }
    this.#finishing = true
    clearTimeout(this.#timer)
    this.#close(bytes)
  }

  /// The connection's last reply (if any) after every pending one, then the write side closed; the
  /// input is read and dropped until the client closes or the linger time passes.
  async #finish (lines: readonly string[] = [], terminator: Terminator = '\0', id?: number): Promise<void> {
    if (this.#finishing) return
    this.#finishing = true
    this.#stopReading()
    clearTimeout(this.#timer)
    while (this.#pending.size > 0) await Promise.all([...this.#pending])
    this.#close(lines.length > 0 ? frame(lines, terminator, id) : undefined)
  }

  /// Writes the last bytes (if any), closes the write side and lingers; the input is read (and
  /// dropped) again meanwhile, so a paused socket resumes.
  #close (last: Buffer | undefined): void {
    this.#out.end(last)
    while (this.#paused > 0) this.#resume()
  }

  #final (answer: Answer, terminator: Terminator): void {
    this.#record(answer, performance.now())
    void this.#finish(answer.lines, terminator)
  }

  #onPeerEnd (): void {
    // A client that half-closes after its command still gets the reply; one that stops mid-command
    // or mid-stream gets nothing (as from clamd).
    if (this.#stream !== undefined) void this.#discardStream()
    void this.#finish()
  }

  #onClose (): void {
    this.#out.onClose()
    clearTimeout(this.#timer)
    this.#abort.close(this.#pending.size > 0)
    void this.#discardStream()
  }
}
