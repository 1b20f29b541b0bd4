/// Where update files come from: an HTTP mirror laid out like a ClamAV private mirror (cvdupdate:
/// flat `<db>.cvd`, `<db>-<N>.cdiff`), a local directory laid out the same way, or a cluster peer
/// (the same HTTP with a cluster-key HMAC per request). The HTTP source turns a 429 or 403 into a
/// CoolDown (Retry-After honoured; ClamAV's 4 h and 24 h when absent) that the updater obeys.
import { open, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { httpGet } from './http.js'
import { parseCvdHeader } from '../engine/signatures/cvd.js'

export type Fetched =
  | { readonly kind: 'ok', readonly data: Buffer, readonly lastModified?: string | undefined }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'missing' }

export type Latest =
  | { readonly kind: 'version', readonly version: number, readonly lastModified?: string | undefined }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'missing' }

export interface UpdateSource {
  /// Shown in logs: the mirror URL or directory, or the peer.
  readonly name: string
  /// The newest version of a database the source offers ('unchanged': not modified since).
  latest (db: string, ifModifiedSince?: string): Promise<Latest>
  get (file: string): Promise<Fetched>
}

/// A mirror's newest version is the one in its CVD's header: freshclam without DNS asks for the first
/// 512 bytes (Range) with If-Modified-Since.
async function latestFromHeader (head: Fetched, file: string): Promise<Latest> {
  if (head.kind !== 'ok') return head
  const header = parseCvdHeader(head.data)
  if (typeof header === 'string') throw new Error(`${file}: ${header}`)
  return { kind: 'version', version: header.version, lastModified: head.lastModified }
}

/// The mirror asked us to stop (429 Too Many Requests, 403 Forbidden) until `until` (epoch ms).
export class CoolDown extends Error {
  readonly until: number
  constructor (until: number, why: string) {
    super(why)
    this.until = until
  }
}

const hour = 3_600_000
/// What freshclam waits when the mirror gives no Retry-After.
export const defaultCoolDownMs = { 429: 4 * hour, 403: 24 * hour } as const

/// Retry-After as seconds or an HTTP date; undefined when absent or unreadable.
export function retryAfterMs (value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

export interface HttpSourceOptions {
  readonly proxy?: string | undefined
  readonly timeoutMs: number
  readonly maxBytes: number
  /// Extra headers per request (the cluster HMAC over method, path and time).
  readonly sign?: (method: string, path: string) => Record<string, string>
}

export class HttpSource implements UpdateSource {
  readonly name: string
  readonly #base: URL
  readonly #options: HttpSourceOptions
  constructor (base: string, options: HttpSourceOptions) {
    this.#base = new URL(base.endsWith('/') ? base : `${base}/`)
    this.name = this.#base.href
    this.#options = options
  }

  async #get (file: string, extra: { ifModifiedSince?: string | undefined, range?: readonly [number, number] }): Promise<Fetched> {
    const url = new URL(file, this.#base)
    const headers = this.#options.sign?.('GET', url.pathname) ?? {}
    const res = await httpGet(url.href, { ...extra, headers, proxy: this.#options.proxy, timeoutMs: this.#options.timeoutMs, maxBytes: this.#options.maxBytes })
    if (res.status === 429 || res.status === 403) {
      const header = res.headers['retry-after']
      const wait = retryAfterMs(Array.isArray(header) ? header[0] : header) ?? defaultCoolDownMs[res.status]
      throw new CoolDown(Date.now() + wait, `${url.href} answered ${res.status}${header === undefined ? '' : ` (Retry-After: ${String(header)})`}: no requests to this mirror for ${Math.round(wait / 1000)} s`)
    }
    if (res.status === 304) return { kind: 'unchanged' }
    if (res.status === 404) return { kind: 'missing' }
    if (res.status !== 200 && res.status !== 206) throw new Error(`${url.href} answered ${res.status}`)
    const lastModified = res.headers['last-modified']
    return { kind: 'ok', data: extra.range === undefined ? res.body : res.body.subarray(0, extra.range[1] + 1), lastModified }
  }

  async latest (db: string, ifModifiedSince?: string): Promise<Latest> {
    return await latestFromHeader(await this.#get(`${db}.cvd`, { ifModifiedSince, range: [0, 511] }), `${this.name}${db}.cvd`)
  }

  async get (file: string): Promise<Fetched> { return await this.#get(file, {}) }
}

/// A local directory laid out like a private mirror (e.g. cvdupdate's output on a shared disk).
export class DirSource implements UpdateSource {
  readonly name: string
  constructor (readonly dir: string) { this.name = dir }

  async latest (db: string, ifModifiedSince?: string): Promise<Latest> {
    return await latestFromHeader(await this.#head(`${db}.cvd`, ifModifiedSince), join(this.dir, `${db}.cvd`))
  }

  async #head (file: string, ifModifiedSince?: string): Promise<Fetched> {
    const path = join(this.dir, file)
    const info = await stat(path).catch(() => undefined)
    if (info === undefined) return { kind: 'missing' }
    const lastModified = info.mtime.toUTCString()
    if (ifModifiedSince === lastModified) return { kind: 'unchanged' }
    const handle = await open(path, 'r')
    try {
      const buf = Buffer.alloc(512)
      const { bytesRead } = await handle.read(buf, 0, 512, 0)
      return { kind: 'ok', data: buf.subarray(0, bytesRead), lastModified }
    } finally {
      await handle.close()
    }
  }

  async get (file: string): Promise<Fetched> {
    try {
      return { kind: 'ok', data: await readFile(join(this.dir, file)) }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' }
      throw err
    }
  }
}
