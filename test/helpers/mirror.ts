/// A local HTTP mirror laid out like a ClamAV private mirror (flat: main.cvd, daily.cvd,
/// daily-N.cdiff), answering as a CDN does what freshclam relies on: Range (206, for the 512-byte
/// header), Last-Modified / If-Modified-Since (304), 404 for missing files; and, when told to, 429
/// or 403 with Retry-After. It records every request so tests can see what the updater asked.
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface MirrorRequest { readonly path: string, readonly range?: string | undefined, readonly ims?: string | undefined, readonly status: number }

export class TestMirror {
  readonly files = new Map<string, { data: Uint8Array, modified: Date }>()
  readonly requests: MirrorRequest[] = []
  /// When set, every request gets this status (429/403) with the Retry-After given.
  refuse: { status: number, retryAfter?: string } | undefined
  readonly #server: Server

  private constructor (server: Server) { this.#server = server }

  static async start (host = '127.0.0.1'): Promise<TestMirror> {
    const holder: { mirror?: TestMirror } = {}
    const server = createServer((req, res) => { holder.mirror?.answer(req.url ?? '/', req.headers, res) })
    const mirror = new TestMirror(server)
    holder.mirror = mirror
    await new Promise<void>(resolve => server.listen(0, host, resolve))
    return mirror
  }

  get url (): string {
    const a = this.#server.address() as AddressInfo
    return `http://${a.address}:${a.port}/`
  }

  /// Publishes a file; each publication gets a later Last-Modified (whole seconds, as HTTP dates are).
  put (name: string, data: Uint8Array): void {
    const last = Math.max(0, ...[...this.files.values()].map(f => f.modified.getTime()))
    this.files.set(name, { data, modified: new Date(Math.max(Math.floor(Date.now() / 1000) * 1000, last + 1000)) })
  }

  answer (url: string, headers: Record<string, string | string[] | undefined>, res: ServerResponse): void {
    const path = decodeURIComponent(url.split('?')[0] ?? '/').replace(/^\//, '')
    const range = headers['range'] as string | undefined
    const ims = headers['if-modified-since'] as string | undefined
    const done = (status: number, extra: Record<string, string> = {}, body: Uint8Array | string = ''): void => {
      this.requests.push({ path, range, ims, status })
      res.writeHead(status, { 'content-length': String(typeof body === 'string' ? Buffer.byteLength(body) : body.length), ...extra }).end(body)
    }
    if (this.refuse !== undefined) { done(this.refuse.status, this.refuse.retryAfter === undefined ? {} : { 'retry-after': this.refuse.retryAfter }); return }
    const file = this.files.get(path)
    if (file === undefined) { done(404); return }
    const lastModified = file.modified.toUTCString()
    if (ims !== undefined && Date.parse(ims) >= file.modified.getTime()) { done(304, { 'last-modified': lastModified }); return }
    const m = /^bytes=(\d+)-(\d+)$/.exec(range ?? '')
    if (m !== null) {
      const start = Number(m[1])
      const end = Math.min(Number(m[2]), file.data.length - 1)
      done(206, { 'last-modified': lastModified, 'content-range': `bytes ${start}-${end}/${file.data.length}` }, file.data.subarray(start, end + 1))
      return
    }
    done(200, { 'last-modified': lastModified }, file.data)
  }

  async close (): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>(resolve => { this.#server.close(() => { resolve() }) })
  }
}
