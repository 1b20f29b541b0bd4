/// The console's channel between cluster nodes: the page on any node shows the whole cluster, so a
/// node asks each peer's console (HTTPS, POST /peer, on the peer's heartbeat host and the same
/// console.port) for its data and hands it changes meant for it. Each request is one JSON body
/// signed with the cluster key (HMAC-SHA256 over timestamp, nonce and body; 30 s window; nonces
/// remembered, so a captured request cannot be replayed) and each answer is signed over the
/// request's nonce and the answer's body, so a host in the middle can neither ask nor answer.
/// Peers' certificates are self-signed, so TLS here gives privacy and the HMAC gives trust. What a
/// peer answers is data (types.ts), checked for shape and rendered escaped, never its HTML.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { request } from 'node:https'
import { NonceWindow } from '../cluster/control.js'
import type { Actor, LocalNode, Operation } from './local.js'
import type { ClusterMember, FromNode } from './types.js'
import { ConsoleError } from './errors.js'

export const authHeader = 'x-scanwall-peer'
const windowMs = 30_000
/// Largest peer answer read (a quarantined object travels base64 in one).
const maxAnswerBytes = 256 * 1024 * 1024

export type PeerCall =
  | { readonly op: 'snapshot' | 'quarantine' }
  /// sinceMs: only the samples after it, and no per-service totals (a chart's later polls).
  | { readonly op: 'traffic', readonly sinceMs?: number | undefined }
  | { readonly op: 'events', readonly sinceMs: number, readonly limit: number }
  | { readonly op: 'download', readonly id: string }
  | { readonly op: 'apply', readonly operation: Operation, readonly actor: Actor }

function mac (key: Buffer, ...parts: string[]): string {
  return createHmac('sha256', key).update(parts.join('\n')).digest('hex')
}

function equalHex (a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex')
  const y = Buffer.from(b, 'hex')
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y)
}

/// Server side: checks one request's signature and freshness; returns the nonce to sign the answer with.
export class PeerGate {
  readonly #key: Buffer
  readonly #nonces = new NonceWindow()
  constructor (key: Buffer) { this.#key = key }

  admit (header: string | undefined, body: string, now = Date.now()): string {
    const m = /^(\d+):([0-9a-f]{32}):([0-9a-f]{64})$/.exec(header ?? '')
    if (m === null) throw new ConsoleError(401, 'peer request without a cluster signature')
    const [, ts = '', nonce = '', sig = ''] = m
    if (!equalHex(sig, mac(this.#key, ts, nonce, body))) throw new ConsoleError(401, 'peer request with a bad cluster signature')
    if (Math.abs(now - Number(ts)) > windowMs) throw new ConsoleError(401, 'stale peer request')
    try { this.#nonces.admit(nonce, Number(ts), now) } catch (err) { throw new ConsoleError(401, err instanceof Error ? err.message : String(err)) }
    return nonce
  }

  sign (nonce: string, body: string): string { return mac(this.#key, 'answer', nonce, body) }
}

const text = (v: unknown, what: string): string => {
  if (typeof v !== 'string' || v.length > 256) throw new ConsoleError(400, `bad peer call: ${what}`)
  return v
}

function operationOf (v: unknown): Operation {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>
  switch (o['op']) {
    case 'offline': case 'online': return { op: o['op'], instance: o['instance'] === undefined ? undefined : text(o['instance'], 'instance') }
    case 'release': case 'delete': return { op: o['op'], id: text(o['id'], 'id') }
    case 'update': return { op: 'update' }
    default: throw new ConsoleError(400, 'bad peer call: operation')
  }
}

function actorOf (v: unknown): Actor {
  const a = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>
  return { user: text(a['user'], 'user'), client: text(a['client'], 'client'), via: text(a['via'], 'via') }
}

export function parseCall (body: unknown): PeerCall {
  if (typeof body !== 'object' || body === null) throw new ConsoleError(400, 'bad peer call')
  const c = body as Record<string, unknown>
  switch (c['op']) {
    case 'snapshot': case 'quarantine': return { op: c['op'] }
    case 'traffic': return { op: 'traffic', sinceMs: typeof c['sinceMs'] === 'number' ? c['sinceMs'] : undefined }
    case 'events': return { op: 'events', sinceMs: Number(c['sinceMs']) || 3_600_000, limit: Math.min(5000, Number(c['limit']) || 500) }
    case 'download': return { op: 'download', id: String(c['id']) }
    case 'apply': return { op: 'apply', operation: operationOf(c['operation']), actor: actorOf(c['actor']) }
    default: throw new ConsoleError(400, 'unknown peer call')
  }
}

/// Runs a call on this node (what a peer asked for, or this node's own share of a cluster read).
export async function runCall (local: LocalNode, call: PeerCall): Promise<unknown> {
  switch (call.op) {
    case 'snapshot': return await local.snapshot()
    case 'traffic': return await local.traffic(call.sinceMs)
    case 'quarantine': return await local.quarantine()
    case 'events': return await local.events(call.sinceMs, call.limit)
    case 'download': {
      const { entry, bytes } = await local.quarantined(call.id)
      return { entry, base64: bytes.toString('base64') }
    }
    case 'apply': return await local.apply(call.operation, { ...call.actor, via: `${call.actor.via} through a peer` })
  }
}

/// Client side: the other nodes, as this node's agents know them, and calls to them.
export class PeerClient {
  readonly #key: Buffer
  readonly #port: number
  readonly #timeoutMs: number
  constructor (key: Buffer, port: number, timeoutMs: number) {
    this.#key = key
    this.#port = port
    this.#timeoutMs = timeoutMs
  }

  /// Every other node with a known host, once (a node in two instances is one peer).
  static peers (members: readonly ClusterMember[]): Array<{ id: string, host: string }> {
    const seen = new Map<string, string>()
    for (const m of members) if (!m.self && m.host !== '' && !seen.has(m.id)) seen.set(m.id, m.host)
    return [...seen].map(([id, host]) => ({ id, host }))
  }

  async call (peer: { id: string, host: string }, call: PeerCall): Promise<FromNode<unknown>> {
    try {
      return { node: peer.id, ok: true, data: await this.#post(peer.host, JSON.stringify(call)) }
    } catch (err) {
      return { node: peer.id, ok: false, error: err instanceof Error ? err.message : String(err) }
    }
  }

  async #post (host: string, body: string): Promise<unknown> {
    const ts = String(Date.now())
    const nonce = randomBytes(16).toString('hex')
    const hostPart = host.includes(':') ? `[${host}]` : host
    return await new Promise((resolve, reject) => {
      const req = request({
        host,
        port: this.#port,
        path: '/peer',
        method: 'POST',
        // Peers' certificates are self-signed: the answer's HMAC is what is trusted.
        rejectUnauthorized: false,
        timeout: this.#timeoutMs,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), [authHeader]: `${ts}:${nonce}:${mac(this.#key, ts, nonce, body)}`, host: `${hostPart}:${this.#port}` },
      }, res => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (c: Buffer) => {
          size += c.length
          if (size > maxAnswerBytes) { req.destroy(new Error('answer too large')); return }
          chunks.push(c)
        })
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          if (!equalHex(String(res.headers[authHeader] ?? ''), mac(this.#key, 'answer', nonce, text))) { reject(new Error(`${host}: answer without a valid cluster signature (HTTP ${res.statusCode ?? 0})`)); return }
          try {
            const parsed = JSON.parse(text) as { ok?: boolean, data?: unknown, error?: string }
            if (parsed.ok === true) resolve(parsed.data)
            else reject(new ConsoleError(res.statusCode ?? 502, String(parsed.error ?? 'peer failed')))
          } catch { reject(new Error(`${host}: answer is not JSON`)) }
        })
        res.on('error', reject)
      })
      req.on('timeout', () => { req.destroy(new Error(`${host}: no answer within ${this.#timeoutMs} ms`)) })
      req.on('error', reject)
      req.end(body)
    })
  }
}
