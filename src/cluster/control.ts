/// The local control socket of a node: `scanwall node offline|online`, `scanwall cluster status` and
/// `scanwall reload`
/// talk to the running node over a unix socket. Three locks: the socket file is mode 0600 (only its
/// owner, normally root, may connect); every request carries an HMAC over its body made with the
/// cluster key, so a process that can reach the socket but does not know the key is refused; and
/// every body carries a timestamp and a random nonce that the server remembers for as long as the
/// timestamp is acceptable, so a captured request cannot be sent again (replay).
/// One JSON request line in, one JSON reply line out; replies are parsed into typed values
/// (control-reply.ts) before the caller sees them.
import { createServer, connect, type Server } from 'node:net'
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { chmod, mkdir, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ScanwallError, errorMessage } from '../errors.js'
import { parseOffline, parseOnline, parseReload, parseStatus, type OfflineResult, type OnlineResult, type ReloadResult, type StatusResult } from './control-reply.js'

export interface ControlRequest {
  readonly cmd: 'status' | 'offline' | 'online' | 'reload'
  readonly instance?: string | undefined
  /// offline only: wait until drained (default) or return once the drain has started.
  readonly wait?: boolean | undefined
}

/// What the node does for each command.
export interface ControlHandler {
  status (instance: string | undefined): StatusResult
  offline (instance: string | undefined, wait: boolean): Promise<OfflineResult>
  online (instance: string | undefined): OnlineResult
  /// Reads the node's --config file again and applies its policy (and reloads the signatures).
  reload? (): ReloadResult
}

type ControlReply = { ok: true, result: unknown } | { ok: false, error: string }

/// How far a request's timestamp may be from the server's clock; nonces are kept this long.
const maxSkewMs = 30_000
/// Nonces remembered at most (requests need the key, so only a runaway client comes near it).
const maxNonces = 4096
const maxLineBytes = 65536

function sign (key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest('hex')
}

/// Replay guard: a nonce is accepted once while its request's timestamp is within maxSkewMs (the
/// console's peer channel uses it too).
export class NonceWindow {
  readonly #seen = new Map<string, number>()

  admit (nonce: string, ts: number, now: number): void {
    for (const [n, t] of this.#seen) if (Math.abs(now - t) > maxSkewMs) this.#seen.delete(n)
    if (this.#seen.has(nonce)) throw new Error('replayed request')
    if (this.#seen.size >= maxNonces) throw new Error('too many requests')
    this.#seen.set(nonce, ts)
  }
}

function parseRequest (line: string, key: Buffer, nonces: NonceWindow): ControlRequest {
  const outer: unknown = JSON.parse(line)
  if (typeof outer !== 'object' || outer === null) throw new Error('bad request')
  const { body, mac } = outer as { body?: unknown, mac?: unknown }
  if (typeof body !== 'string' || typeof mac !== 'string' || !/^[0-9a-f]{64}$/.test(mac)) throw new Error('bad request')
  if (!timingSafeEqual(Buffer.from(sign(key, body), 'hex'), Buffer.from(mac, 'hex'))) throw new Error('authentication failed')
  const inner: unknown = JSON.parse(body)
  if (typeof inner !== 'object' || inner === null) throw new Error('bad request')
  const r = inner as Record<string, unknown>
  const now = Date.now()
  const ts = r['ts']
  if (typeof ts !== 'number' || Math.abs(now - ts) > maxSkewMs) throw new Error('stale request')
  const nonce = r['nonce']
  if (typeof nonce !== 'string' || !/^[0-9a-f]{16,64}$/.test(nonce)) throw new Error('bad request: no nonce')
  nonces.admit(nonce, ts, now)
  const cmd = r['cmd']
  if (cmd !== 'status' && cmd !== 'offline' && cmd !== 'online' && cmd !== 'reload') throw new Error(`unknown command ${String(cmd)}`)
  const instance = r['instance']
  if (instance !== undefined && typeof instance !== 'string') throw new Error('bad request: instance')
  return { cmd, instance, wait: r['wait'] !== false }
}

async function dispatch (request: ControlRequest, handler: ControlHandler): Promise<unknown> {
  switch (request.cmd) {
    case 'status': return handler.status(request.instance)
    case 'offline': return await handler.offline(request.instance, request.wait !== false)
    case 'online': return handler.online(request.instance)
    case 'reload': return handler.reload?.() ?? { applied: false, reason: 'this node cannot reload from the control socket' }
  }
}

export class ControlServer {
  readonly #server: Server
  readonly #path: string

  constructor (path: string, key: Buffer, handler: ControlHandler) {
    this.#path = path
    const nonces = new NonceWindow()
    this.#server = createServer(socket => {
      let buf = ''
      socket.setEncoding('utf8')
      socket.on('data', (d: string) => {
        buf += d
        if (buf.length > maxLineBytes) { socket.destroy(); return }
        const nl = buf.indexOf('\n')
        if (nl < 0) return
        const line = buf.slice(0, nl)
        buf = ''
        socket.pause()
        let reply: Promise<ControlReply>
        try {
          const request = parseRequest(line, key, nonces)
          reply = dispatch(request, handler).then(result => ({ ok: true as const, result }), (err: unknown) => ({ ok: false as const, error: errorMessage(err) }))
        } catch (err) {
          reply = Promise.resolve({ ok: false, error: errorMessage(err) })
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

/// Client side: one signed request with a fresh nonce, the reply's result as unchecked JSON.
export async function controlCall (path: string, key: Buffer, request: ControlRequest, timeoutMs = 120_000): Promise<unknown> {
  const body = JSON.stringify({ ...request, ts: Date.now(), nonce: randomBytes(16).toString('hex') })
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
  let reply: unknown
  try {
    reply = JSON.parse(text)
  } catch {
    throw new ScanwallError('CLUSTER_CONTROL', 'the node answered something that is not JSON')
  }
  if (typeof reply !== 'object' || reply === null || !('ok' in reply)) throw new ScanwallError('CLUSTER_CONTROL', 'malformed reply')
  if (reply.ok !== true) throw new ScanwallError('CLUSTER_CONTROL', 'error' in reply && typeof reply.error === 'string' ? reply.error : 'malformed reply')
  return 'result' in reply ? reply.result : undefined
}

/// The typed commands, for the CLI and the tests.
export const control = {
  async status (path: string, key: Buffer, instance?: string, timeoutMs?: number): Promise<StatusResult> {
    return parseStatus(await controlCall(path, key, { cmd: 'status', instance }, timeoutMs))
  },
  async offline (path: string, key: Buffer, instance?: string, wait = true): Promise<OfflineResult> {
    return parseOffline(await controlCall(path, key, { cmd: 'offline', instance, wait }))
  },
  async online (path: string, key: Buffer, instance?: string): Promise<OnlineResult> {
    return parseOnline(await controlCall(path, key, { cmd: 'online', instance }))
  },
  async reload (path: string, key: Buffer): Promise<ReloadResult> {
    return parseReload(await controlCall(path, key, { cmd: 'reload' }))
  },
}
