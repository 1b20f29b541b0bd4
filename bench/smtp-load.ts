/// The mail cell's load generator and SMTP sink, in the bench process: `sessions` SMTP connections
/// to one Postfix port, each sending message after message (MAIL, RCPT, DATA on one session, as an
/// MTA with a connection cache does), and the sink Postfix relays them to. Every message carries
/// `X-Bench-Id: <n>`; the sink notes when each id arrives, so a message's latency is end to end
/// (first command sent → delivered to the sink) and throughput counts delivered messages only.
/// The sink reads DATA as Buffers and only looks for the terminator and the first 16 KiB of
/// headers: test/helpers/smtp-sink.ts keeps every line as a string, which costs more CPU for a
/// 1 MiB message than the servers measured beside it. No npm SMTP client is used for the same
/// reason (nodemailer builds MIME per message): the bench's own CPU must stay small.
import { connect, createServer, type Server, type Socket } from 'node:net'

/// What the sink saw of one delivered message.
export interface Arrival { readonly at: number, readonly statusHeader: boolean }

const headBytes = 16 * 1024
const terminator = Buffer.from('\r\n.\r\n')

export class BenchSink {
  readonly arrivals = new Map<number, Arrival>()
  /// Delivered messages without an X-Bench-Id (never expected: a sign of a broken run).
  unknown = 0
  readonly #server: Server
  readonly #sockets = new Set<Socket>()

  private constructor () { this.#server = createServer(s => { this.#session(s) }) }

  static async start (): Promise<BenchSink> {
    const sink = new BenchSink()
    await new Promise<void>((resolve, reject) => { sink.#server.once('error', reject); sink.#server.listen(0, '127.0.0.1', resolve) })
    return sink
  }

  get port (): number {
    const a = this.#server.address()
    return a === null || typeof a === 'string' ? 0 : a.port
  }

  async close (): Promise<void> {
    for (const s of this.#sockets) s.destroy()
    await new Promise<void>(resolve => this.#server.close(() => resolve()))
  }

  #session (socket: Socket): void {
    this.#sockets.add(socket)
    socket.once('close', () => this.#sockets.delete(socket))
    socket.on('error', () => {})
    let line = ''
    // In DATA: the last 4 bytes seen (a terminator may span chunks) and the head of the message.
    let data: { tail: Buffer, head: string } | undefined
    const reply = (text: string): void => { socket.write(`${text}\r\n`) }
    const commands = (text: string): void => {
      line += text
      for (let nl = line.indexOf('\r\n'); nl >= 0 && data === undefined; nl = line.indexOf('\r\n')) {
        const verb = line.slice(0, 4).toUpperCase()
        line = line.slice(nl + 2)
        if (verb === 'EHLO' || verb === 'HELO') reply('250 sink.bench')
        else if (verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP') reply('250 2.0.0 Ok')
        else if (verb === 'DATA') {
          // A leading CRLF, so a message that is only "." still ends.
          data = { tail: Buffer.from('\r\n'), head: '' }
          reply('354 go ahead')
          const rest = line
          line = ''
          if (rest !== '') body(Buffer.from(rest, 'latin1'))
        } else if (verb === 'QUIT') { reply('221 2.0.0 Bye'); socket.end() } else reply('502 5.5.2 not here')
      }
    }
    const body = (chunk: Buffer): void => {
      if (data === undefined) return
      if (data.head.length < headBytes) data.head += chunk.subarray(0, headBytes - data.head.length).toString('latin1')
      const joined = Buffer.concat([data.tail, chunk])
      const end = joined.indexOf(terminator)
      if (end < 0) {
        data.tail = joined.subarray(Math.max(0, joined.length - 4))
        return
      }
      const id = /^X-Bench-Id: (\d+)\r$/m.exec(data.head)?.[1]
      if (id === undefined) this.unknown++
      else this.arrivals.set(Number(id), { at: performance.now(), statusHeader: /^X-Virus-Status: /im.test(data.head) })
      data = undefined
      reply('250 2.0.0 Ok: queued')
      const rest = joined.subarray(end + terminator.length)
      if (rest.length > 0) commands(rest.toString('latin1'))
    }
    reply('220 sink.bench ESMTP')
    socket.on('data', (chunk: Buffer) => { if (data === undefined) commands(chunk.toString('latin1')); else body(chunk) })
  }
}

/// One SMTP client session: send a line (or a message), await the whole reply (multi-line too).
class SmtpSession {
  readonly #socket: Socket
  #buffer = ''
  #waiting: ((reply: string) => void) | undefined
  #failed: Error | undefined

  private constructor (socket: Socket) {
    this.#socket = socket
    socket.setEncoding('latin1')
    socket.on('data', (text: string) => {
      this.#buffer += text
      // A reply ends with a line "NNN text" (continuation lines are "NNN-text").
      const end = /(?:^|\n)(\d{3}) [^\n]*\r\n$/.exec(this.#buffer)
      if (end === null || this.#waiting === undefined) return
      const whole = this.#buffer
      this.#buffer = ''
      const waiter = this.#waiting
      this.#waiting = undefined
      waiter(whole)
    })
    const fail = (err: Error): void => {
      this.#failed = err
      const waiter = this.#waiting
      this.#waiting = undefined
      waiter?.(`000 ${err.message}\r\n`)
    }
    socket.on('error', fail)
    socket.on('close', () => { fail(new Error('connection closed')) })
  }

  static async open (port: number): Promise<SmtpSession> {
    const socket = connect(port, '127.0.0.1')
    socket.setNoDelay(true)
    const session = new SmtpSession(socket)
    const greeting = await session.#next()
    if (!greeting.startsWith('220')) throw new Error(`SMTP greeting: ${greeting.trim()}`)
    const ehlo = await session.send('EHLO bench.scanwall.test\r\n')
    if (!ehlo.startsWith('250')) throw new Error(`EHLO: ${ehlo.trim()}`)
    return session
  }

  async #next (): Promise<string> {
    if (this.#failed !== undefined) return `000 ${this.#failed.message}\r\n`
    return await new Promise(resolve => { this.#waiting = resolve })
  }

  async send (bytes: string | Buffer): Promise<string> {
    const reply = this.#next()
    this.#socket.write(bytes)
    return await reply
  }

  close (): void { this.#socket.end('QUIT\r\n') }
}

export interface LoadResult {
  /// Messages Postfix accepted (250 after DATA), and the other replies (tempfail, reject, errors).
  readonly accepted: number
  readonly refused: number
  readonly refusals: readonly string[]
  /// id → when its first command went out (performance.now()).
  readonly sentAt: ReadonlyMap<number, number>
  readonly startedAt: number
  /// The bench process's own CPU (load generator and sink) over the sending, ms.
  readonly clientCpuMs: number
}

/// Sends for `seconds` over `sessions` sessions; `message(id)` gives the RFC 5322 text (CRLF,
/// dot-stuffed where needed) of message `id`; ids come from `nextId`, unique over the whole run.
export async function sendMail (port: number, sessions: number, seconds: number, message: (id: number) => Buffer, nextId: () => number): Promise<LoadResult> {
  const sentAt = new Map<number, number>()
  const refusals: string[] = []
  let accepted = 0
  let refused = 0
  const cpu = process.cpuUsage()
  const startedAt = performance.now()
  const until = startedAt + seconds * 1000
  const lane = async (): Promise<void> => {
    let session = await SmtpSession.open(port)
    while (performance.now() < until) {
      const id = nextId()
      const text = message(id)
      sentAt.set(id, performance.now())
      const steps = [await session.send('MAIL FROM:<load@bench.scanwall.test>\r\n')]
      if (steps[0]?.startsWith('250') === true) steps.push(await session.send('RCPT TO:<sink@bench.scanwall.test>\r\n'))
      if (steps[1]?.startsWith('250') === true) steps.push(await session.send('DATA\r\n'))
      if (steps[2]?.startsWith('354') === true) steps.push(await session.send(Buffer.concat([text, Buffer.from('.\r\n')])))
      const last = steps.at(-1) ?? ''
      if (steps.length === 4 && last.startsWith('250')) { accepted++; continue }
      refused++
      sentAt.delete(id)
      if (refusals.length < 5) refusals.push(last.trim())
      // A refused DATA or a broken session: start a clean session (Postfix may have dropped it).
      session.close()
      session = await SmtpSession.open(port)
    }
    session.close()
  }
  await Promise.all(Array.from({ length: sessions }, lane))
  const used = process.cpuUsage(cpu)
  return { accepted, refused, refusals, sentAt, startedAt, clientCpuMs: (used.user + used.system) / 1000 }
}
