/// Signature files between cluster nodes: the fetcher (the lowest live node id) serves the verified
/// upstream files it keeps (store.mirrorDir) and an index of the versions it runs over HTTP, and the
/// other nodes fetch from it instead of the outside mirror. Every request carries an HMAC-SHA256
/// with the cluster key over method, path and time (30 s window), so only members read the files;
/// the files themselves are verified again by the receiving node (signatures), so a peer cannot
/// hand out anything the outside mirror's keys did not sign.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { HttpSource, type Fetched, type Latest, type UpdateSource } from './source.js'
import type { UpdateStore } from './store.js'
import type { Logger } from '../log.js'

const header = 'x-scanwall-auth'
const windowMs = 30_000
const prefix = '/updates/'
/// What a peer may ask for: a file name in the kept directory (CVDs, cdiffs, a manifest and its
/// files), never a path or a hidden (temporary) file.
const servable = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/

function mac (key: Buffer, method: string, path: string, at: string): string {
  return createHmac('sha256', key).update(`${method}\n${path}\n${at}`).digest('hex')
}

export function signRequest (key: Buffer, method: string, path: string, now = Date.now()): Record<string, string> {
  return { [header]: `${now}:${mac(key, method, path, String(now))}` }
}

export function requestAuthentic (key: Buffer, method: string, path: string, value: string | undefined, now = Date.now()): boolean {
  const m = /^(\d+):([0-9a-f]{64})$/.exec(value ?? '')
  if (m === null || Math.abs(now - Number(m[1])) > windowMs) return false
  return timingSafeEqual(Buffer.from(m[2] ?? '', 'hex'), Buffer.from(mac(key, method, path, m[1] ?? ''), 'hex'))
}

export class PeerFileServer {
  readonly #server: Server
  private constructor (server: Server) { this.#server = server }

  static async start (host: string, port: number, key: Buffer, store: UpdateStore, log: Logger): Promise<PeerFileServer> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0] ?? ''
      const answer = (status: number, body: string | Buffer): void => { res.writeHead(status, { 'content-length': Buffer.byteLength(body) }).end(body) }
      if (req.method !== 'GET' || !path.startsWith(prefix)) { answer(404, 'not found\n'); return }
      if (!requestAuthentic(key, 'GET', path, req.headers[header] as string | undefined)) {
        log.warn({ from: req.socket.remoteAddress, path }, 'signature peer request refused: bad or missing cluster HMAC')
        answer(401, 'unauthorized\n')
        return
      }
      const name = path.slice(prefix.length)
      void (async () => {
        if (name === 'index.json') { answer(200, JSON.stringify({ dbs: (await store.read()).dbs })); return }
        if (!servable.test(name)) { answer(404, 'not found\n'); return }
        const data = await readFile(join(store.mirrorDir, name)).catch(() => undefined)
        if (data === undefined) answer(404, 'not found\n')
        else answer(200, data)
      })().catch(() => { answer(500, 'error\n') })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => { server.off('error', reject); resolve() })
    })
    return new PeerFileServer(server)
  }

  get port (): number { return (this.#server.address() as AddressInfo).port }

  async close (): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>(resolve => { this.#server.close(() => { resolve() }) })
  }
}

/// The fetcher as an update source: versions from its index, files as it keeps them.
export class PeerSource implements UpdateSource {
  readonly name: string
  readonly #http: HttpSource
  #index: Promise<Record<string, { version: number }>> | undefined

  constructor (host: string, port: number, key: Buffer, options: { timeoutMs: number, maxBytes: number }) {
    const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}${prefix}`
    this.name = `peer ${base}`
    this.#http = new HttpSource(base, { ...options, sign: (method, path) => signRequest(key, method, path) })
  }

  async #versions (): Promise<Record<string, { version: number }>> {
    this.#index ??= (async () => {
      const got = await this.#http.get('index.json')
      if (got.kind !== 'ok') throw new Error(`${this.name}index.json: not available`)
      const parsed = JSON.parse(got.data.toString('utf8')) as { dbs?: Record<string, { version: number }> }
      return parsed.dbs ?? {}
    })()
    return await this.#index
  }

  async latest (db: string): Promise<Latest> {
    const v = (await this.#versions())[db]?.version
    // A database the fetcher has not installed yet: nothing to follow (not an error on this node).
    return typeof v === 'number' && v > 0 ? { kind: 'version', version: v } : { kind: 'unchanged' }
  }

  async get (file: string): Promise<Fetched> { return await this.#http.get(file) }
}
