/// One milter connection: the parser's commands driven through the protocol's rules, one at a
/// time and in order (an MTA waits for each reply it expects, so the replies go out in the order
/// of its commands). Negotiation takes only the steps the filter needs and answers only where it
/// has something to say; a message's headers and body go into the handler's body sink as they
/// arrive (a slow sink pauses the socket), and its end is answered with the modifications and the
/// verdict, with progress packets while the handler works. Several messages pass on one
/// connection (abort between them); a malformed packet or a silent connection closes it.
import type { Socket } from 'node:net'
import { MilterParser, type MilterCommand, type MilterEvent } from './parser.js'
import { Action, Step } from './constants.js'
import { modification, negotiate, progress, verdict, type Modification, type VerdictReply } from './replies.js'
import type { MilterContext } from './context.js'
import type { HeaderField, MessageBody, MilterEnvelope } from './handler.js'
import { localOf } from '../common/listeners.js'

/// Steps the filter does without (unknown commands) or has nothing to answer to (connect, helo,
/// recipients, headers, end of headers, body chunks: a round trip saved per step). MAIL FROM is
/// answered when the handler may give a verdict there (the skip lists accept a message there);
/// otherwise it is freed too (options.mailVerdicts false: Step.noReplyMail).
/// DATA is asked for and answered, on purpose: Postfix's smtpd writes the envelope (MAIL, RCPT, the
/// DATA macros) unanswered, then its cleanup process writes the message on the same socket without
/// TCP_NODELAY, so Nagle holds that write until the envelope is acknowledged, and with nothing to
/// send back our kernel delays the ACK by 40 ms: 40+ ms per message, measured with tcpdump (one
/// SMTP session: 50 ms per message, 4 ms for Postfix alone). Answering DATA makes smtpd flush and
/// wait, and our reply carries the ACK, so the message goes out at once.
export const wantedSteps = Step.noUnknown | Step.noReplyConnect | Step.noReplyHelo | Step.noReplyRcpt |
  Step.noReplyHeader | Step.noReplyEoh | Step.noReplyBody | Step.headerLeadingSpace
/// Modifications the filter makes: its own headers (added, or replacing ones from outside) and the
/// MTA's quarantine (Postfix's hold queue).
export const wantedActions = Action.addHeaders | Action.changeHeaders | Action.quarantine

/// The no-reply flag that frees each command from an answer.
const noReplyFlag: Partial<Record<MilterCommand['kind'], number>> = {
  connect: Step.noReplyConnect,
  helo: Step.noReplyHelo,
  mail: Step.noReplyMail,
  rcpt: Step.noReplyRcpt,
  data: Step.noReplyData,
  header: Step.noReplyHeader,
  eoh: Step.noReplyEoh,
  body: Step.noReplyBody,
  unknown: Step.noReplyUnknown,
}

const actionOf: Record<Modification['kind'], number> = {
  addHeader: Action.addHeaders,
  insertHeader: Action.addHeaders,
  changeHeader: Action.changeHeaders,
  quarantine: Action.quarantine,
}

/// Commands waiting in the queue past which the socket stops being read.
const queueHighWater = 64
const lingerMs = 1_000
const crlf = Buffer.from('\r\n')

interface Message {
  readonly sender: string
  readonly senderArgs: readonly string[]
  readonly recipients: string[]
  body: MessageBody | undefined
  size: number
  readonly headers: HeaderField[]
  overLimit: 'size' | 'headers' | undefined
  headersEnded: boolean
  /// A verdict was given at MAIL FROM: nothing of the message is read.
  skipped: boolean
}

export class MilterConnection {
  readonly #socket: Socket
  readonly #ctx: MilterContext
  readonly #parser: MilterParser
  readonly #listener: 'tcp' | 'unix'
  readonly remote: string
  readonly local: string
  readonly #queue: MilterEvent[] = []
  #pumping = false
  /// Negotiated actions and steps; undefined until the MTA's option negotiation.
  #actions = 0
  #steps: number | undefined
  #client: MilterEnvelope['client']
  #helo: string | undefined
  readonly #connectionMacros = new Map<string, string>()
  readonly #messageMacros = new Map<string, string>()
  #message: Message | undefined
  /// True while a message's end is being judged.
  #judging = false
  /// Aborted when the connection goes away: tells the message being judged to stop. One per
  /// connection, made on its first message (one per message cost ~1.5 % of a node's CPU, profiled).
  #gone: AbortController | undefined
  #draining = false
  #closed = false
  #paused = false
  #timer: NodeJS.Timeout | undefined

  constructor (socket: Socket, ctx: MilterContext, listener: 'tcp' | 'unix') {
    this.#socket = socket
    this.#ctx = ctx
    this.#listener = listener
    this.#parser = new MilterParser(ctx.options.limits)
    this.remote = listener === 'unix' ? 'unix' : socket.remoteAddress ?? '-'
    this.local = localOf(socket)
    // Every write is a whole reply the MTA is waiting for: Nagle could only hold it back (a TCP
    // socket; a unix socket has no such option and ignores the call).
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => { this.#onData(chunk) })
    socket.on('end', () => { this.#close() })
    socket.on('error', err => { ctx.log.debug({ remote: this.remote, err: err.message }, 'milter socket error') })
    socket.on('close', () => { this.#onClose() })
    this.#arm()
  }

  get closed (): boolean { return this.#closed }
  /// True while a message is between MAIL FROM and its verdict.
  get busy (): boolean { return this.#message !== undefined }

  /// Takes no new message: the one in progress is finished and answered, then the connection closes.
  drain (): void {
    this.#draining = true
    if (this.#message === undefined && !this.#pumping) this.#close()
  }

  destroy (): void { this.#socket.destroy() }

  #arm (): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#closed || this.#judging) return
    this.#timer = setTimeout(() => {
      this.#ctx.emit('protocolError', { reason: 'connection idle past the timeout', remote: this.remote })
      this.#close()
    }, this.#ctx.options.idleTimeoutMs)
    this.#timer.unref()
  }

  #onData (chunk: Buffer): void {
    if (this.#parser.stopped) return
    for (const event of this.#parser.push(chunk)) this.#queue.push(event)
    if (this.#queue.length > queueHighWater && !this.#paused) {
      this.#paused = true
      this.#socket.pause()
    }
    this.#arm()
    void this.#pump()
  }

  /// Runs the queued commands one after the other; an async step (a body write the spool is slow
  /// to take, a message being judged) holds the ones behind it.
  async #pump (): Promise<void> {
    if (this.#pumping) return
    this.#pumping = true
    try {
      let event: MilterEvent | undefined
      while (!this.#closed && (event = this.#queue.shift()) !== undefined) {
        const step = this.#handle(event)
        if (step !== undefined) await step
        if (this.#paused && this.#queue.length <= queueHighWater / 2) {
          this.#paused = false
          this.#socket.resume()
        }
      }
    } catch (err) {
      this.#ctx.log.warn({ remote: this.remote, err: err instanceof Error ? err.message : String(err) }, 'milter command failed')
      this.#ctx.emit('protocolError', { reason: 'handler failed', remote: this.remote })
      this.#socket.destroy()
    } finally {
      this.#pumping = false
    }
    if (this.#draining && this.#message === undefined) this.#close()
  }

  #handle (event: MilterEvent): Promise<void> | undefined {
    if (event.kind === 'malformed') return this.#protocolError(event.reason)
    if (this.#steps === undefined && event.kind !== 'optneg') return this.#protocolError(`${event.kind} before option negotiation`)
    switch (event.kind) {
      case 'optneg':
        if (event.version < 2) return this.#protocolError(`MTA protocol version ${event.version} is too old`)
        this.#actions = wantedActions & event.actions
        this.#steps = (wantedSteps | (this.#ctx.options.mailVerdicts === false ? Step.noReplyMail : 0)) & event.steps
        this.#write(negotiate(this.#actions, this.#steps, event.version >= 6 ? this.#ctx.options.macros : {}))
        return undefined
      case 'macros': {
        const into = event.command === 'C' || event.command === 'H' ? this.#connectionMacros : this.#messageMacros
        for (const [name, value] of event.macros) into.set(name, value)
        return undefined
      }
      case 'connect':
        this.#client = { hostname: event.hostname, family: event.family, address: event.address, port: event.port }
        return this.#continue(event.kind)
      case 'helo':
        this.#helo = event.name
        return this.#continue(event.kind)
      case 'mail':
        return this.#mail(event.address, event.args)
      case 'rcpt':
        this.#message?.recipients.push(event.address)
        return this.#continue(event.kind)
      case 'header':
        return this.#header(event.name, event.value)
      case 'eoh': {
        const wait = this.#endHeaders()
        this.#continue(event.kind)
        return wait
      }
      case 'body': {
        const wait = this.#body(event.bytes)
        this.#continue(event.kind)
        return wait
      }
      case 'eom':
        return this.#endOfMessage(event.bytes)
      case 'abort':
        return this.#dropMessage(true)
      case 'quitNewConnection':
        this.#client = undefined
        this.#helo = undefined
        this.#connectionMacros.clear()
        return this.#dropMessage(true)
      case 'quit':
        this.#close()
        return this.#dropMessage(true)
      case 'data':
      case 'unknown':
        return this.#continue(event.kind)
    }
  }

  /// The MTA waits for an answer to this step unless it was freed from one.
  #continue (kind: MilterCommand['kind'], reply: VerdictReply = { kind: 'continue' }): undefined {
    const flag = noReplyFlag[kind]
    if (flag === undefined || ((this.#steps ?? 0) & flag) === 0) this.#write(verdict(reply))
    return undefined
  }

  #envelope (): MilterEnvelope {
    const message = this.#message
    return {
      remote: this.remote,
      listener: this.#listener,
      client: this.#client,
      helo: this.#helo,
      sender: message?.sender,
      senderArgs: message?.senderArgs ?? [],
      recipients: message?.recipients ?? [],
      macros: new Map([...this.#connectionMacros, ...this.#messageMacros]),
    }
  }

  async #mail (sender: string, args: readonly string[]): Promise<void> {
    await this.#dropMessage(false)
    const message: Message = { sender, senderArgs: args, recipients: [], body: undefined, size: 0, headers: [], overLimit: undefined, headersEnded: false, skipped: false }
    this.#message = message
    // Freed from answering MAIL FROM, the connection has no verdict to give there: mail() is not asked.
    const early = ((this.#steps ?? 0) & Step.noReplyMail) !== 0 ? undefined : this.#ctx.handler.mail(this.#envelope())
    if (early !== undefined && early.kind !== 'continue') message.skipped = true
    this.#continue('mail', early)
  }

  /// The message's body sink, opened at its first byte (a message that never began gets one too).
  #bodyOf (message: Message): MessageBody {
    message.body ??= this.#ctx.handler.openMessage(this.#envelope())
    return message.body
  }

  /// Bytes into the sink, counted against the message limit; past it nothing more is written.
  #feed (message: Message, bytes: Uint8Array): Promise<void> | undefined {
    const body = this.#bodyOf(message)
    message.size += bytes.length
    if (message.overLimit !== undefined) return undefined
    if (message.size > this.#ctx.options.limits.maxMessageBytes) {
      message.overLimit = 'size'
      return undefined
    }
    return body.write(bytes)
  }

  #header (name: string, value: string): Promise<void> | undefined {
    const message = this.#message
    let wait: Promise<void> | undefined
    if (message !== undefined && !message.skipped) {
      if (message.headers.length >= this.#ctx.options.limits.maxHeaders) message.overLimit ??= 'headers'
      else message.headers.push({ name, value })
      // Postfix gives the value with its leading space when asked (HDR_LEADSPC): byte for byte.
      const leading = ((this.#steps ?? 0) & Step.headerLeadingSpace) !== 0 ? '' : ' '
      wait = this.#feed(message, Buffer.from(`${name}:${leading}${value.replace(/\r?\n/g, '\r\n')}\r\n`, 'latin1'))
    }
    this.#continue('header')
    return wait
  }

  #endHeaders (): Promise<void> | undefined {
    const message = this.#message
    if (message === undefined || message.skipped || message.headersEnded) return undefined
    message.headersEnded = true
    return this.#feed(message, crlf)
  }

  #body (bytes: Uint8Array): Promise<void> | undefined {
    const message = this.#message
    if (message === undefined || message.skipped || bytes.length === 0) return undefined
    const blank = this.#endHeaders()
    const wait = this.#feed(message, bytes)
    return blank === undefined ? wait : wait === undefined ? blank : Promise.all([blank, wait]).then(() => {})
  }

  async #endOfMessage (last: Uint8Array): Promise<void> {
    const message = this.#message
    if (message === undefined || message.skipped) {
      this.#write(verdict({ kind: 'continue' }))
      await this.#dropMessage(false)
      return
    }
    await this.#body(last)
    await this.#endHeaders()
    const body = this.#bodyOf(message)
    this.#gone ??= new AbortController()
    const signal = this.#gone.signal
    this.#judging = true
    clearTimeout(this.#timer)
    const keepAlive = setInterval(() => { this.#write(progress()) }, this.#ctx.options.progressMs)
    try {
      const answer = await body.finish(this.#envelope(), { size: message.size, headers: message.headers, overLimit: message.overLimit }, signal)
      message.body = undefined // finished: the handler released it
      // The modifications and the verdict go out in one write: one system call (and one wake-up of
      // the MTA) per message instead of one per packet.
      const packets: Buffer[] = []
      for (const m of answer.modifications ?? []) {
        // A modification the MTA did not grant would break the session: it is left out.
        if ((this.#actions & actionOf[m.kind]) !== 0) packets.push(modification(this.#withLeadingSpace(m)))
        else this.#ctx.log.debug({ remote: this.remote, modification: m.kind }, 'milter modification not granted by the MTA')
      }
      packets.push(verdict(answer.verdict))
      this.#write(packets.length === 1 ? packets[0] ?? Buffer.alloc(0) : Buffer.concat(packets))
    } finally {
      clearInterval(keepAlive)
      this.#judging = false
      this.#message = undefined
      this.#messageMacros.clear()
      this.#arm()
    }
  }

  /// With HDR_LEADSPC the MTA takes header values as they go into the message: the space after the
  /// colon is ours to send (an empty value, a deletion, stays empty).
  #withLeadingSpace (m: Modification): Modification {
    if (m.kind === 'quarantine' || ((this.#steps ?? 0) & Step.headerLeadingSpace) === 0 || m.value === '' || /^[ \t]/.test(m.value)) return m
    return { ...m, value: ` ${m.value}` }
  }

  /// Forgets the message in progress (abort, a new MAIL FROM, quit); its sink is thrown away.
  async #dropMessage (aborted: boolean): Promise<void> {
    const message = this.#message
    this.#message = undefined
    this.#messageMacros.clear()
    if (message?.body === undefined) return
    if (aborted) this.#ctx.emit('aborted', { remote: this.remote })
    await message.body.discard().catch(() => {})
  }

  #protocolError (reason: string): undefined {
    this.#parser.stop()
    this.#queue.length = 0
    this.#ctx.emit('protocolError', { reason, remote: this.remote })
    this.#socket.destroy()
    return undefined
  }

  #write (bytes: Buffer): void {
    if (!this.#closed && this.#socket.writable) this.#socket.write(bytes)
  }

  #close (): void {
    if (this.#closed) return
    this.#parser.stop()
    if (this.#socket.writable) this.#socket.end()
    setTimeout(() => { this.#socket.destroy() }, lingerMs).unref()
  }

  #onClose (): void {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#parser.stop()
    this.#queue.length = 0
    // A message being judged is released by its handler once the abort reaches the scan.
    if (this.#judging) this.#gone?.abort()
    else void this.#dropMessage(this.#message !== undefined)
  }
}
