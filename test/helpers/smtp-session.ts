/// A hand-driven SMTP client session for tests that must stop between two commands: a message
/// left mid-transaction (MAIL FROM answered, DATA begun, the body not yet ended) while the test
/// stops or drains the scanner behind the MTA, then ended, then a second message on the same
/// session. swaks sends a whole transaction at once, so it cannot hold a message open; nodemailer
/// cannot either. Replies are read whole (multi-line `250-` continuations joined). Over TCP, or over
/// any byte stream (a bridge process inside a network namespace: `over`).
import { connect } from 'node:net'
import type { Duplex } from 'node:stream'

export interface SmtpReply { readonly code: number, readonly text: string }

export class SmtpSession {
  readonly #socket: Duplex
  #buffer = ''
  readonly #lines: string[] = []
  #wake: (() => void) | undefined
  #ended = false

  private constructor (socket: Duplex) {
    this.#socket = socket
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk
      for (let nl = this.#buffer.indexOf('\r\n'); nl >= 0; nl = this.#buffer.indexOf('\r\n')) {
        this.#lines.push(this.#buffer.slice(0, nl))
        this.#buffer = this.#buffer.slice(nl + 2)
      }
      this.#wake?.()
    })
    const end = (): void => { this.#ended = true; this.#wake?.() }
    socket.on('end', end)
    socket.on('close', end)
    socket.on('error', end)
  }

  /// Connects and reads the greeting (which must be 220).
  static async open (port: number, host = '127.0.0.1', timeoutMs = 60_000): Promise<SmtpSession> {
    const socket = connect(port, host)
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    return await SmtpSession.over(socket, timeoutMs)
  }

  /// A session over a stream already connected to the server; reads the greeting (which must be 220).
  static async over (stream: Duplex, timeoutMs = 60_000): Promise<SmtpSession> {
    const session = new SmtpSession(stream)
    const greeting = await session.reply(timeoutMs)
    if (greeting.code !== 220) throw new Error(`SMTP greeting ${greeting.code} ${greeting.text}`)
    return session
  }

  /// Sends one command line and reads its reply.
  async command (line: string, timeoutMs = 60_000): Promise<SmtpReply> {
    this.write(`${line}\r\n`)
    return await this.reply(timeoutMs)
  }

  /// Raw bytes (a part of a message body, with its CRLFs); no reply is read.
  write (text: string): void { this.#socket.write(text, 'latin1') }

  /// The next whole reply: lines up to the one whose code is followed by a space.
  async reply (timeoutMs = 60_000): Promise<SmtpReply> {
    const deadline = Date.now() + timeoutMs
    const text: string[] = []
    for (;;) {
      const line = this.#lines.shift()
      if (line !== undefined) {
        text.push(line.slice(4))
        if (line[3] !== '-') return { code: Number(line.slice(0, 3)), text: text.join('\n') }
        continue
      }
      if (this.#ended) throw new Error(`SMTP server closed the session (read so far: ${text.join(' | ')})`)
      if (Date.now() > deadline) throw new Error(`no SMTP reply within ${timeoutMs} ms`)
      await new Promise<void>(resolve => {
        this.#wake = resolve
        setTimeout(resolve, 200)
      })
      this.#wake = undefined
    }
  }

  close (): void { this.#socket.destroy() }
}
