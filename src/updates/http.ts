/// One HTTP GET for the updater, with what freshclam's mirror protocol needs: If-Modified-Since,
/// Range (the 512-byte CVD header), a size cap, a timeout, extra headers (the cluster HMAC), and an
/// HTTP proxy (absolute-URI requests for http://, a CONNECT tunnel for https://). Written on
/// node:http because Node's built-in fetch has no proxy setting and the project has no HTTP client
/// dependency; this is the whole of what is needed.
import http from 'node:http'
import https from 'node:https'
import { connect as tlsConnect } from 'node:tls'
import type { Socket } from 'node:net'

export interface GetOptions {
  readonly ifModifiedSince?: string | undefined
  /// Inclusive byte range, e.g. [0, 511].
  readonly range?: readonly [number, number]
  readonly headers?: Readonly<Record<string, string>>
  readonly proxy?: string | undefined
  readonly timeoutMs: number
  readonly maxBytes: number
}

export interface GetResult {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
}

/// A CONNECT tunnel through the proxy to host:port (for https:// mirrors).
async function tunnel (proxy: URL, host: string, port: number, timeoutMs: number): Promise<Socket> {
  return await new Promise((resolve, reject) => {
    const req = http.request({ host: proxy.hostname, port: Number(proxy.port || 80), method: 'CONNECT', path: `${host}:${port}`, timeout: timeoutMs })
    req.once('connect', (res, socket) => {
      if (res.statusCode === 200) resolve(socket)
      else { socket.destroy(); reject(new Error(`proxy ${proxy.host} refused CONNECT ${host}:${port} with ${res.statusCode ?? 0}`)) }
    })
    req.once('timeout', () => { req.destroy(new Error(`proxy ${proxy.host} did not answer within ${timeoutMs} ms`)) })
    req.once('error', reject)
    req.end()
  })
}

export async function httpGet (url: string, options: GetOptions): Promise<GetResult> {
  const target = new URL(url)
  const headers: Record<string, string> = { 'user-agent': 'Scanwall-updater', ...options.headers }
  if (options.ifModifiedSince !== undefined) headers['if-modified-since'] = options.ifModifiedSince
  if (options.range !== undefined) headers['range'] = `bytes=${options.range[0]}-${options.range[1]}`
  const secure = target.protocol === 'https:'
  const port = Number(target.port || (secure ? 443 : 80))
  const proxy = options.proxy === undefined || options.proxy === '' ? undefined : new URL(options.proxy)
  let request: http.ClientRequest
  if (proxy !== undefined && !secure) {
    // Plain HTTP through a proxy: the absolute URI in the request line.
    request = http.request({ host: proxy.hostname, port: Number(proxy.port || 80), path: target.href, headers: { ...headers, host: target.host }, timeout: options.timeoutMs })
  } else if (proxy !== undefined) {
    const socket = await tunnel(proxy, target.hostname, port, options.timeoutMs)
    const tls = tlsConnect({ socket, servername: target.hostname })
    request = https.request({ host: target.hostname, port, path: target.pathname + target.search, headers, timeout: options.timeoutMs, createConnection: () => tls })
  } else {
    request = (secure ? https : http).request({ host: target.hostname, port, path: target.pathname + target.search, headers, timeout: options.timeoutMs })
  }
  return await new Promise((resolve, reject) => {
    request.once('timeout', () => { request.destroy(new Error(`${target.host} did not answer within ${options.timeoutMs} ms`)) })
    request.once('error', reject)
    request.once('response', res => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > options.maxBytes) { res.destroy(new Error(`${url}: larger than ${options.maxBytes} bytes`)); return }
        chunks.push(chunk)
      })
      res.once('error', reject)
      res.once('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }) })
    })
    request.end()
  })
}
