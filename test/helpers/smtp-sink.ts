/// A small SMTP server for tests: the place Postfix (or a notifier) delivers to. It speaks the
/// part of RFC 5321 a relaying MTA uses (EHLO/HELO, MAIL, RCPT, DATA with dot-stuffing, RSET, NOOP,
/// QUIT) and keeps every message it accepted, with its envelope.
import { createServer, type Server, type Socket } from 'node:net'

export interface SunkMessage { readonly from: string, readonly to: readonly string[], readonly data: string }

export class SmtpSink {
  readonly messages: SunkMessage[] = []
  readonly #server: Server
  readonly #waiters: Array<() => void> = []
  readonly #sockets = new Set<Socket>()

  private constructor () {
    this.#server = createServer(socket => { this.#session(socket) })
  }

  static async start (port = 0, host = '127.0.0.1'): Promise<SmtpSink> {
    const sink = new SmtpSink()
    await new Promise<void>((resolve, reject) => { sink.#server.once('error', reject); sink.#server.listen(port, host, resolve) })
    return sink
  }

  get port (): number {
    const a = this.#server.address()
    return a === null || typeof a === 'string' ? 0 : a.port
  }

  /// Resolves once `count` messages have arrived in total.
  async waitFor (count: number, timeoutMs = 60_000): Promise<SunkMessage[]> {
    const deadline = Date.now() + timeoutMs
    while (this.messages.length < count) {
      if (Date.now() > deadline) throw new Error(`SMTP sink: ${this.messages.length} of ${count} messages after ${timeoutMs} ms`)
      await new Promise<void>(resolve => { this.#waiters.push(resolve); setTimeout(resolve, 200) })
    }
    return this.messages
  }

  async close (): Promise<void> {
    for (const s of this.#sockets) s.destroy()
    await new Promise<void>(resolve => this.#server.close(() => resolve()))
  }

  #session (socket: Socket): void {
    this.#sockets.add(socket)
    socket.once('close', () => this.#sockets.delete(socket))
    let buffer = ''
    let from = ''
    let to: string[] = []
    let data: string[] | undefined
    const reply = (line: string): void => { socket.write(`${line}\r\n`) }
    socket.setEncoding('latin1')
    socket.on('error', () => {})
    reply('220 sink.scanwall.test ESMTP')
    socket.on('data', (chunk: string) => {
      buffer += chunk
      for (let nl = buffer.indexOf('\r\n'); nl >= 0; nl = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 2)
        if (data !== undefined) {
          if (line === '.') {
            this.messages.push({ from, to, data: data.join('\r\n') + '\r\n' })
            for (const w of this.#waiters.splice(0)) w()
            data = undefined
            reply('250 2.0.0 Ok: queued')
          } else data.push(line.startsWith('.') ? line.slice(1) : line)
          continue
        }
        const verb = line.slice(0, 4).toUpperCase()
        if (verb === 'EHLO') { reply('250-sink.scanwall.test'); reply('250-8BITMIME'); reply('250 SMTPUTF8') } else if (verb === 'HELO') reply('250 sink.scanwall.test')
        else if (verb === 'MAIL') { from = /<([^>]*)>/.exec(line)?.[1] ?? ''; to = []; reply('250 2.1.0 Ok') } else if (verb === 'RCPT') { to.push(/<([^>]*)>/.exec(line)?.[1] ?? ''); reply('250 2.1.5 Ok') } else if (verb === 'DATA') { data = []; reply('354 End data with <CR><LF>.<CR><LF>') } else if (verb === 'QUIT') { reply('221 2.0.0 Bye'); socket.end() } else if (verb === 'RSET' || verb === 'NOOP') reply('250 2.0.0 Ok')
        else reply('502 5.5.2 Error: command not recognized')
      }
    })
  }
}
