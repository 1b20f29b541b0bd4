/// The local control socket of a node: `scanwall node offline|online` and `scanwall cluster status`
/// talk to the running node over a unix socket. Two locks: the socket file is mode 0600 (only its
/// owner, normally root, may connect), and every request carries an HMAC over its body with the
/// cluster key plus a timestamp, so a process that can reach the socket but does not know the key is
/// refused. One JSON request line in, one JSON reply line out.
import { createServer, connect, type Server } from 'node:net'
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { chmod, mkdir, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ScanwallError } from '../errors.js'

export interface ControlRequest {
  readonly cmd: 'status' | 'offline' | 'online'
  readonly instance?: string | undefined
  readonly wait?: boolean | undefined
}

export type ControlReply = { ok: true, result: unknown } | { ok: false, error: string }

export type ControlHandler = (request: ControlRequest) => Promise<unknown>

const maxSkewMs = 30_000

function sign (key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest('hex')
}

function parseRequest (line: string, key: Buffer): ControlRequest {
  const outer: unknown = JSON.parse(line)
  if (typeof outer !== 'object' || outer === null) throw new Error('bad request')
  const { body, mac } = outer as { body?: unknown, mac?: unknown }
  if (typeof body !== 'string' || typeof mac !== 'string' || mac.length !== 64) throw new Error('bad request')
  if (!timingSafeEqual(Buffer.from(sign(key, body), 'hex'), Buffer.from(mac, 'hex'))) throw new Error('authentication failed')
  const inner: unknown = JSON.parse(body)
  if (typeof inner !== 'object' || inner === null) throw new Error('bad request')
  const r = inner as Record<string, unknown>
  if (typeof r['ts'] !== 'number' || Math.abs(Date.now() - r['ts']) > maxSkewMs) throw new Error('stale request')
  const cmd = r['cmd']
  if (cmd !== 'status' && cmd !== 'offline' && cmd !== 'online') throw new Error(`unknown command ${String(cmd)}`)
  const instance = typeof r['instance'] === 'string' ? r['instance'] : undefined
  return { cmd, instance, wait: r['wait'] !== false }
}

export class ControlServer {
  readonly #server: Server
  readonly #path: string

  constructor (path: string, key: Buffer, handler: ControlHandler) {
    this.#path = path
    this.#server = createServer(socket => {
      let buf = ''
      socket.setEncoding('utf8')
      socket.on('data', (d: string) => {
        buf += d
        if (buf.length > 65536) { socket.destroy(); return }
        const nl = buf.indexOf('\n')
        if (nl < 0) return
        const line = buf.slice(0, nl)
        buf = ''
        let reply: Promise<ControlReply>
        try {
          const request = parseRequest(line, key)
          reply = handler(request).then(result => ({ ok: true as const, result }), (err: unknown) => ({ ok: false as const, error: err instanceof Error ? err.message : String(err) }))
        } catch (err) {
          reply = Promise.resolve({ ok: false, error: err instanceof Error ? err.message : String(err) })
        }
        void reply.then(r => socket.end(`${JSON.stringify(r)}\n`))
      })
      socket.on('error', () => {})
    })
  }

  async listen (): Promise<void> {
    await mkdir(dirname(this.#path), { recursive: true, mode: 0o700 })
    await unlink(this.#path).catch(() => {})
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(this.#path, () => { this.#server.off('error', reject); resolve() })
    })
    await chmod(this.#path, 0o600)
  }

  async close (): Promise<void> {
    await new Promise<void>(resolve => this.#server.close(() => resolve()))
    await unlink(this.#path).catch(() => {})
  }
}

/// Client side, used by the CLI.
export async function controlCall (path: string, key: Buffer, request: ControlRequest, timeoutMs = 120_000): Promise<unknown> {
  const body = JSON.stringify({ ...request, ts: Date.now(), nonce: randomBytes(8).toString('hex') })
  const line = `${JSON.stringify({ body, mac: sign(key, body) })}\n`
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect(path)
    let data = ''
    const timer = setTimeout(() => { socket.destroy(); reject(new ScanwallError('CLUSTER_CONTROL', 'no answer from the node')) }, timeoutMs)
    socket.setEncoding('utf8')
    socket.on('connect', () => socket.write(line))
    socket.on('data', (d: string) => { data += d })
    socket.on('end', () => { clearTimeout(timer); resolve(data) })
    socket.on('error', err => { clearTimeout(timer); reject(new ScanwallError('CLUSTER_CONTROL', `${path}: ${err.message}`)) })
  })
  const reply = JSON.parse(text) as ControlReply
  if (!reply.ok) throw new ScanwallError('CLUSTER_CONTROL', reply.error)
  return reply.result
}
