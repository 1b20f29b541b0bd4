/// A local origin web server for proxy tests: serves a fixed set of generated objects (each with its
/// own headers, e.g. Content-Encoding: gzip) and records every request, including the bodies of
/// uploads, so a test can prove what did or did not reach the origin.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createHash } from 'node:crypto'
import type { AddressInfo } from 'node:net'

export interface OriginObject {
  readonly body: Buffer
  readonly headers?: Readonly<Record<string, string>>
}

export interface OriginHit {
  readonly method: string
  readonly path: string
  readonly bodyBytes: number
  readonly bodySha256: string
  readonly body: Buffer
}

export interface Origin {
  readonly port: number
  url (path: string): string
  readonly hits: OriginHit[]
  close (): Promise<void>
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

export async function startOrigin (objects: ReadonlyMap<string, OriginObject>): Promise<Origin> {
  const hits: OriginHit[] = []
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const path = (req.url ?? '/').replace(/^https?:\/\/[^/]+/, '')
      hits.push({ method: req.method ?? '', path, bodyBytes: body.length, bodySha256: sha256(body), body })
      if (req.method === 'POST') {
        const text = `stored ${body.length} bytes\n`
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) })
        res.end(text)
        return
      }
      const object = objects.get(path)
      if (object === undefined) {
        res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': 10 })
        res.end('not found\n')
        return
      }
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', ...object.headers, 'Content-Length': object.body.length })
      res.end(object.body)
    })
  }
  const server = createServer(handle)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    port,
    url: path => `http://127.0.0.1:${port}${path}`,
    hits,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    },
  }
}
