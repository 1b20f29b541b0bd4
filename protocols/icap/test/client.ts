/// Test client for the package's own tests: a real loopback socket that sends raw ICAP and splits
/// what comes back into whole responses (framed by Encapsulated and the chunked body), plus a
/// request builder for REQMOD/RESPMOD with or without a preview.
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { responseEnd } from '../framing.js'

export class TestClient {
  readonly socket: Socket
  received = Buffer.alloc(0)
  closed = false

  private constructor (socket: Socket) {
    this.socket = socket
    socket.on('data', (chunk: Buffer) => { this.received = Buffer.concat([this.received, chunk]) })
    socket.on('close', () => { this.closed = true })
    socket.on('error', () => {})
  }

  static async open (port: number): Promise<TestClient> {
    const socket = connect(port, '127.0.0.1')
    await once(socket, 'connect')
    return new TestClient(socket)
  }

  responses (): string[] {
    const out: string[] = []
    for (let pos = 0, end = responseEnd(this.received, 0); end > 0; pos = end, end = responseEnd(this.received, pos)) {
      out.push(this.received.toString('latin1', pos, end))
    }
    return out
  }

  /// Waits until `n` responses arrived (or the connection closed) and returns them.
  async wait (n: number, timeoutMs = 5_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs
    while (this.responses().length < n && !this.closed) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} responses; got ${JSON.stringify(this.received.toString('latin1').slice(0, 300))}`)
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    return this.responses()
  }

  async waitClosed (timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the server to close')
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  }

  destroy (): void { this.socket.destroy() }
}

export interface Mod {
  readonly method?: 'REQMOD' | 'RESPMOD'
  readonly service?: string
  readonly body?: Buffer
  readonly allow?: string
  readonly preview?: number
  /// Declare Content-Length (default true).
  readonly contentLength?: boolean
  readonly headers?: readonly string[]
}

const chunk = (b: Buffer): Buffer => b.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from(b.length.toString(16) + '\r\n'), b, Buffer.from('\r\n')])

/// `first`: up to the end of the preview (or everything); `rest`: what follows 100 Continue.
export function request (m: Mod): { first: Buffer, rest: Buffer, whole: Buffer } {
  const method = m.method ?? 'RESPMOD'
  const body = m.body
  const len = body === undefined || m.contentLength === false ? '' : `Content-Length: ${body.length}\r\n`
  const reqHdr = method === 'REQMOD'
    ? `POST http://origin.test/upload HTTP/1.1\r\nHost: origin.test\r\n${len}\r\n`
    : 'GET /object HTTP/1.1\r\nHost: origin.test\r\n\r\n'
  const resHdr = method === 'RESPMOD' ? `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n${len}\r\n` : ''
  const bodyName = body === undefined ? 'null-body' : method === 'REQMOD' ? 'req-body' : 'res-body'
  const enc = method === 'REQMOD' ? `req-hdr=0, ${bodyName}=${reqHdr.length}` : `req-hdr=0, res-hdr=${reqHdr.length}, ${bodyName}=${reqHdr.length + resHdr.length}`
  const lines = [`${method} icap://127.0.0.1/${m.service ?? 'scan'} ICAP/1.0`, 'Host: 127.0.0.1', ...(m.headers ?? [])]
  if (m.allow !== undefined) lines.push(`Allow: ${m.allow}`)
  if (m.preview !== undefined) lines.push(`Preview: ${m.preview}`)
  lines.push(`Encapsulated: ${enc}`)
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n' + reqHdr + resHdr, 'latin1')
  if (body === undefined) return { first: head, rest: Buffer.alloc(0), whole: head }
  if (m.preview === undefined) {
    const whole = Buffer.concat([head, chunk(body), Buffer.from('0\r\n\r\n')])
    return { first: whole, rest: Buffer.alloc(0), whole }
  }
  if (body.length <= m.preview) {
    const whole = Buffer.concat([head, chunk(body), Buffer.from('0; ieof\r\n\r\n')])
    return { first: whole, rest: Buffer.alloc(0), whole }
  }
  const first = Buffer.concat([head, chunk(body.subarray(0, m.preview)), Buffer.from('0\r\n\r\n')])
  const rest = Buffer.concat([chunk(body.subarray(m.preview)), Buffer.from('0\r\n\r\n')])
  return { first, rest, whole: Buffer.concat([first, rest]) }
}

export function statusOf (response: string | undefined): number {
  return Number(response?.slice(9, 12) ?? 0)
}
