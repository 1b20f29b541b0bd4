/// One clamd connection: the parser's events driven through clamd's rules. Outside a session the
/// first command is answered and the connection closed (clients read to EOF); IDSESSION keeps it
/// open, numbers each command's reply (`<id>: `, ids from 1, replies in completion order) and ends
/// at END, at EOF, or at a command a session does not allow. INSTREAM chunks go straight into the
/// handler's stream body (a slow spool pauses the socket). The socket is half-open aware: a client
/// that shuts its write side still reads every reply. Over-limit streams and timeouts are answered
/// before the write side is closed, and input is drained meanwhile so the client reads the line
/// instead of a reset, for as long as a stalled stream would be waited for (a starved client may
/// still be writing seconds later). A connection that closes aborts its scans.
import type { Socket } from 'node:net'
import { ClamdParser, type ClamdEvent, type Terminator } from './parser.js'
import { isInSessionCommand, type Command } from './commands.js'
import { frame, replies, resultLines, statsBlock, versionCommands, type ScanReply } from './replies.js'
import { scanLocalPath } from './local-scan.js'
import type { ClamdContext } from './context.js'
import type { ClamdRequestInfo, StreamBody } from './handler.js'
import type { CommandRecord } from './events.js'

const defaultMaxPending = 64
/// Controllers of closed connections whose signal never fired, for the next connections: creating an
/// AbortSignal costs ~6 µs of CPU in Node 20 (its EventTarget), a visible part of a 4 KiB INSTREAM
/// (one connection per object), and a signal that never fired and has no listener left (every scan
/// has finished when its connection hands the controller back) is as good as a new one.
const spareControllers: AbortController[] = []
const maxSpareControllers = 64

interface Answer { readonly lines: readonly string[], readonly record: Omit<CommandRecord, 'remote' | 'listener' | 'ms'> }

const noScan = (command: string, lines: readonly string[]): Answer => ({ lines, record: { command, bytes: 0, result: '-', threat: undefined } })

function scanAnswer (command: string, lines: readonly string[], bytes: number): Answer {
  const found = lines.find(l => l.endsWith(' FOUND'))
  const threat = found === undefined ? undefined : found.slice(found.lastIndexOf(': ') + 2, -' FOUND'.length)
  const result = found !== undefined ? 'found' : lines.some(l => l.endsWith(' ERROR')) ? 'error' : 'ok'
  return { lines, record: { command, bytes, result, threat } }
}

export class ClamdConnection {
  readonly #socket: Socket
  readonly #ctx: ClamdContext
  readonly #parser: ClamdParser
  readonly #listener: 'tcp' | 'unix'
  /// Made on the first scan and aborted only when scans are running: an AbortController and the
  /// DOMException an abort creates cost more than a whole small INSTREAM.
  #abort: AbortController | undefined
  readonly #pending = new Set<Promise<void>>()
  readonly remote: string
  readonly local: string
  #session = false
  #nextId = 1
  /// The INSTREAM being received: its body, id (in a session), framing, bytes and start time.
  #stream: { body: StreamBody, id: number | undefined, terminator: Terminator, bytes: number, started: number } | undefined
  #finishing = false
  #timer: NodeJS.Timeout | undefined
  #linger: NodeJS.Timeout | undefined
  #paused = 0
  #closed = false
  #ignoring = false
  /// Input that can never become a command (unprefixed inside a session): only the timeout ends it.
  #unreadable = false

  constructor (socket: Socket, ctx: ClamdContext, listener: 'tcp' | 'unix') {
    this.#socket = socket
    this.#ctx = ctx
    this.#listener = listener
    this.#parser = new ClamdParser(ctx.options.limits)
    this.remote = listener === 'unix' ? 'unix' : socket.remoteAddress ?? '-'
    const local = socket.localAddress ?? '-'
    this.local = local.startsWith('::ffff:') ? local.slice(7) : local
    socket.on('data', (chunk: Buffer) => { this.#onData(chunk) })
    socket.on('end', () => { this.#onPeerEnd() })
    socket.on('error', err => { ctx.log.debug({ remote: this.remote, err: err.message }, 'clamd socket error') })
    socket.on('close', () => { this.#onClose() })
    this.#arm()
  }

  get closed (): boolean { return this.#closed }

  /// Stops reading commands; what is running finishes and is answered, then the connection closes.
  drain (): void {
    // Answered already and only waiting for the client to close: shutting down (or moving the
    // address) does not wait the linger out.
    if (this.#linger !== undefined) {
      this.#socket.destroy()
      return
    }
    if (this.#stream !== undefined) return // the stream's reply ends it
    void this.#finish()
  }

  destroy (): void { this.#socket.destroy() }

  #signal (): AbortSignal {
    this.#abort ??= spareControllers.pop() ?? new AbortController()
    return this.#abort.signal
  }

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
    const work = this.#answer(command).then(answer => {
      this.#record(answer, started)
      this.#reply(frame(answer.lines, terminator, id), id)
    })
    this.#track(work)
  }

  async #answer (command: Command): Promise<Answer> {
    const handler = this.#ctx.handler
    const name = command.name
    switch (name) {
      case 'PING': return noScan(name, [replies.pong])
      case 'VERSION': return noScan(name, [handler.version()])
      case 'VERSIONCOMMANDS': return noScan(name, [versionCommands(handler.version())])
      case 'STATS': return noScan(name, [statsBlock(handler.stats())])
      case 'RELOAD':
        handler.reload()
        return noScan(name, [replies.reloading])
      case 'SHUTDOWN':
      case 'QUIT':
        if (!this.#ctx.options.allowShutdown) return noScan(name, [replies.shutdownRefused])
        handler.shutdown()
        return noScan(name, [])
      case 'FILDES': return noScan(name, [replies.fildesUnsupported])
      // clamd closes these without a word (detection statistics are not kept).
      case 'DETSTATS':
      case 'DETSTATSCLEAR': return noScan(name, [])
      case 'SCAN':
      case 'CONTSCAN':
      case 'MULTISCAN':
      case 'ALLMATCHSCAN': {
        const local = this.#ctx.options.localScan
        if (local === undefined) return noScan(name, [replies.unavailable])
        const info = this.#info(name)
        const lines = await scanLocalPath(name, command.path, local, async (file, allMatch) => await handler.scanFile(file, info, this.#signal(), allMatch), this.#signal())
        return scanAnswer(name, lines, 0)
      }
      // Handled before a command is run: never reached.
      case 'INSTREAM':
      case 'IDSESSION':
      case 'END':
        return noScan(name, [replies.unknownCommand])
    }
  }

  #openStream (id: number | undefined, terminator: Terminator): void {
    this.#stream = { body: this.#ctx.handler.openStream(this.#info('INSTREAM')), id, terminator, bytes: 0, started: performance.now() }
  }

  #onChunk (bytes: Uint8Array): void {
    const stream = this.#stream
    if (stream === undefined) return
    stream.bytes += bytes.length
    const wait = stream.body.write(bytes)
    if (wait !== undefined) this.#pauseUntil(wait)
  }

  #onStreamEnd (): void {
    const stream = this.#stream
    if (stream === undefined) return
    this.#stream = undefined
    if (stream.id === undefined) this.#stopReading()
    const work = stream.body.scan(this.#signal()).then((reply: ScanReply) => {
      const answer = scanAnswer('INSTREAM', resultLines('stream', reply), stream.bytes)
      this.#record(answer, stream.started)
      this.#reply(frame(answer.lines, stream.terminator, stream.id), stream.id)
    })
    this.#track(work)
  }

  async #discardStream (): Promise<void> {
    const stream = this.#stream
    this.#stream = undefined
    await stream?.body.discard().catch(() => {})
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
      this.#write(bytes)
      if (id === undefined) void this.#finish()
      return
    }
    this.#finishing = true
    clearTimeout(this.#timer)
    this.#close(bytes)
  }

  #write (bytes: Buffer): void {
    if (!this.#closed && this.#socket.writable) this.#socket.write(bytes)
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

  /// Writes the last bytes (if any), closes the write side and lingers (below).
  #close (last: Buffer | undefined): void {
    if (!this.#closed) {
      if (last !== undefined && this.#socket.writable) this.#socket.end(last)
      else this.#socket.end()
    }
    // Reading goes on (dropping bytes) so a client still writing gets our line, not a reset: the
    // line is in its receive buffer, but a client whose next write fails (EPIPE, ECONNRESET) gives
    // up before reading it (Node's net, python-clamd). A client that half-closed is closed by Node
    // as soon as the line is out; one still sending is waited for up to timeouts.readMs, the time
    // a stalled stream gets: a fixed 2 s lost the line to clients starved of CPU for longer. No new
    // exposure: a client could hold the connection that long mid-stream anyway.
    while (this.#paused > 0) this.#resume()
    // Cleared at close: one connection per object is the common case, and a timer left to fire
    // would keep each closed socket reachable for the whole linger time.
    this.#linger = setTimeout(() => { this.#socket.destroy() }, this.#ctx.options.timeouts.readMs).unref()
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
    this.#closed = true
    clearTimeout(this.#timer)
    clearTimeout(this.#linger)
    if (this.#pending.size > 0) this.#abort?.abort()
    else if (this.#abort !== undefined && !this.#abort.signal.aborted && spareControllers.length < maxSpareControllers) spareControllers.push(this.#abort)
    this.#abort = undefined
    void this.#discardStream()
  }
}
