/// Test harness for the ICAP server: a real IcapServer over a real ScanService (worker pool,
/// bundled signatures) on 127.0.0.1 port 0, a pino logger whose lines the test can read, and a raw
/// socket client that reads whole ICAP responses (framing by Encapsulated and chunked bodies).
import { connect, type Socket } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { pino } from 'pino'
import { responseEnd, type IcapServer } from 'icap-server-lite'
import { createIcapServer, type ScanwallIcapOptions } from '../../src/icap/server.js'
import { ScanService, type ScanServiceOptions } from '../../src/scan/service.js'
import { Metrics } from '../../src/metrics.js'
import { PolicyHolder, PolicySet } from '../../src/policy/policy-set.js'
import type { Profile } from '../../src/policy/decide.js'
import { builtinFallbacks, resolveProfile } from '../../src/policy/profile.js'
import { builtinBlockTemplate } from '../../src/policy/block-page.js'
import { bundledSignaturesDir } from '../../config/schema.js'

export interface LogLine { readonly level: number, readonly msg: string, readonly [key: string]: unknown }

export interface Harness {
  readonly port: number
  readonly server: IcapServer
  readonly scan: ScanService
  readonly metrics: Metrics
  readonly logs: LogLine[]
  close (): Promise<void>
}

export const goldenOptions: ScanwallIcapOptions = {
  host: '127.0.0.1',
  port: 0,
  nodeId: 'golden-node',
  nodeHeader: true,
  services: ['avscan', 'srv_clamav', 'virus_scan', 'resp_only:RESPMOD'],
  maxConnections: 50,
  previewBytes: 1024,
  transferPreview: '*',
  transferIgnore: 'jpg, png',
  transferComplete: '',
  optionsTtlSeconds: 3600,
  allow206: true,
  idleTimeoutMs: 30_000,
  headerTimeoutMs: 10_000,
  bodyTimeoutMs: 300_000,
  bodyStallWarnMs: 5_000,
  maxHeaderBytes: 65_536,
  maxHeaderCount: 100,
  maxObjectBytes: 64 * 1024 * 1024,
  blockTemplate: builtinBlockTemplate,
}

/// The default profile as a node with goldenOptions would build it: its Transfer-* lists come from
/// the icap keys, as policy/policy-set.ts does.
const goldenProfile = resolveProfile('default', {}, { ...builtinFallbacks, transferPreview: goldenOptions.transferPreview, transferIgnore: goldenOptions.transferIgnore, transferComplete: goldenOptions.transferComplete })

export interface HarnessOptions {
  readonly icap?: Partial<ScanwallIcapOptions>
  readonly scan?: Partial<ScanServiceOptions>
  readonly profile?: Profile
}

export async function startIcap (options: HarnessOptions = {}): Promise<Harness> {
  const spoolDir = mkdtempSync(join(tmpdir(), 'scanwall-icap-test-'))
  const logs: LogLine[] = []
  const log = pino({ level: 'debug' }, { write (line: string) { logs.push(JSON.parse(line) as LogLine) } })
  const metrics = new Metrics()
  const scan = await ScanService.start({
    workers: 1, maxQueue: 64, workerMaxOldGenMb: 128, memoryLimit: 256 * 1024, spoolDir, timeoutMs: 20_000, signaturesDir: bundledSignaturesDir, ...options.scan,
  }, metrics, log)
  const server = createIcapServer({ ...goldenOptions, ...options.icap }, { scan, policy: new PolicyHolder(PolicySet.single(options.profile ?? goldenProfile)), metrics, log })
  const address = await server.listen()
  return {
    port: address.port,
    server,
    scan,
    metrics,
    logs,
    async close () {
      await server.close(1_000)
      await scan.close()
      rmSync(spoolDir, { recursive: true, force: true })
    },
  }
}

/// A raw ICAP client connection that collects bytes and hands out whole responses.
export class RawClient {
  readonly socket: Socket
  #buf = Buffer.alloc(0)
  #closed = false
  #waiters: Array<() => void> = []

  private constructor (socket: Socket) {
    this.socket = socket
    socket.on('data', (chunk: Buffer) => { this.#buf = Buffer.concat([this.#buf, chunk]); this.#wake() })
    socket.on('close', () => { this.#closed = true; this.#wake() })
    socket.on('error', () => {})
  }

  static async open (port: number, host = '127.0.0.1'): Promise<RawClient> {
    const socket = connect(port, host)
    await once(socket, 'connect')
    return new RawClient(socket)
  }

  #wake (): void { for (const w of this.#waiters.splice(0)) w() }

  get closed (): boolean { return this.#closed }
  get received (): Buffer { return this.#buf }

  write (bytes: Buffer | string): void { this.socket.write(bytes) }

  async #until (done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.#buf.toString('latin1').slice(0, 400))}`)
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, 50)
        this.#waiters.push(() => { clearTimeout(t); resolve() })
      })
    }
  }

  /// Waits for `n` complete responses (counting from the start of the connection) and returns them.
  async responses (n: number, timeoutMs = 15_000): Promise<Buffer[]> {
    let list: Buffer[] = []
    await this.#until(() => {
      list = splitResponses(this.#buf)
      return list.length >= n || this.#closed
    }, timeoutMs, `${n} responses`)
    if (list.length < n) throw new Error(`connection closed after ${list.length} of ${n} responses: ${JSON.stringify(this.#buf.toString('latin1').slice(0, 300))}`)
    return list
  }

  async closedByServer (timeoutMs = 15_000): Promise<void> {
    await this.#until(() => this.#closed, timeoutMs, 'the server to close')
  }

  destroy (): void { this.socket.destroy() }
}

export function splitResponses (buf: Buffer): Buffer[] {
  const out: Buffer[] = []
  let pos = 0
  while (pos < buf.length) {
    const end = responseEnd(buf, pos)
    if (end < 0) break
    out.push(buf.subarray(pos, end))
    pos = end
  }
  return out
}

/// Golden comparison ignores what changes per run: the Date and the ISTag value.
export function normalise (response: Buffer | string): string {
  const text = typeof response === 'string' ? response : response.toString('latin1')
  return text.replace(/\r\nDate: [^\r\n]*/g, '\r\nDate: <date>').replace(/\r\nISTag: "[^"\r\n]*"/g, '\r\nISTag: "<istag>"')
}

export interface ModRequest {
  readonly method?: 'RESPMOD' | 'REQMOD'
  readonly service?: string
  readonly body: Buffer
  readonly preview?: number
  readonly allow?: string
  readonly extraHeaders?: readonly string[]
  /// Declare Content-Length in the encapsulated HTTP header (default true).
  readonly contentLength?: boolean
}

/// Builds a REQMOD/RESPMOD request in parts: `first` is everything up to and including the preview
/// (or the whole request without a preview), `rest` what follows 100 Continue (empty otherwise).
export function buildRequest (r: ModRequest): { first: Buffer, rest: Buffer, whole: Buffer } {
  const method = r.method ?? 'RESPMOD'
  const len = r.contentLength === false ? [] : [`Content-Length: ${r.body.length}`]
  const reqHdr = method === 'REQMOD'
    ? ['POST http://origin.test/upload HTTP/1.1', 'Host: origin.test', ...len].join('\r\n') + '\r\n\r\n'
    : 'GET http://origin.test/object HTTP/1.1\r\nHost: origin.test\r\n\r\n'
  const resHdr = method === 'RESPMOD' ? ['HTTP/1.1 200 OK', 'Content-Type: application/octet-stream', ...len].join('\r\n') + '\r\n\r\n' : ''
  const enc = method === 'REQMOD' ? `req-hdr=0, req-body=${reqHdr.length}` : `req-hdr=0, res-hdr=${reqHdr.length}, res-body=${reqHdr.length + resHdr.length}`
  const lines = [`${method} icap://127.0.0.1/${r.service ?? 'avscan'} ICAP/1.0`, 'Host: 127.0.0.1']
  if (r.allow !== undefined) lines.push(`Allow: ${r.allow}`)
  if (r.preview !== undefined) lines.push(`Preview: ${r.preview}`)
  lines.push(...(r.extraHeaders ?? []), `Encapsulated: ${enc}`)
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n' + reqHdr + resHdr, 'latin1')
  const chunk = (b: Buffer): Buffer => b.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from(b.length.toString(16) + '\r\n'), b, Buffer.from('\r\n')])
  if (r.preview === undefined) {
    const whole = Buffer.concat([head, chunk(r.body), Buffer.from('0\r\n\r\n')])
    return { first: whole, rest: Buffer.alloc(0), whole }
  }
  const pv = r.body.subarray(0, r.preview)
  if (r.body.length <= r.preview) {
    const whole = Buffer.concat([head, chunk(pv), Buffer.from('0; ieof\r\n\r\n')])
    return { first: whole, rest: Buffer.alloc(0), whole }
  }
  const first = Buffer.concat([head, chunk(pv), Buffer.from('0\r\n\r\n')])
  const rest = Buffer.concat([chunk(r.body.subarray(r.preview)), Buffer.from('0\r\n\r\n')])
  return { first, rest, whole: Buffer.concat([first, rest]) }
}

export const optionsRequest = Buffer.from('OPTIONS icap://127.0.0.1/avscan ICAP/1.0\r\nHost: 127.0.0.1\r\nEncapsulated: null-body=0\r\n\r\n', 'latin1')

/// Status code of a response.
export function statusOf (response: Buffer | undefined): number {
  return Number(response?.toString('latin1', 9, 12) ?? 0)
}

/// The decoded chunked body of a 200 echo/block response.
export function bodyOf (response: Buffer): Buffer {
  const headEnd = response.indexOf('\r\n\r\n') + 4
  const enc = /\r\nEncapsulated: *([^\r\n]*)/i.exec(response.toString('latin1', 0, headEnd))?.[1] ?? ''
  const last = enc.split(',').map(s => s.trim().split('=')).pop()
  if (last?.[0] === 'null-body') return Buffer.alloc(0)
  let pos = headEnd + Number(last?.[1] ?? 0)
  const parts: Buffer[] = []
  for (;;) {
    const nl = response.indexOf('\r\n', pos)
    const size = parseInt(response.toString('latin1', pos, nl), 16)
    if (size === 0 || Number.isNaN(size)) break
    parts.push(response.subarray(nl + 2, nl + 2 + size))
    pos = nl + 2 + size + 2
  }
  return Buffer.concat(parts)
}

/// Polls until `check` is true (or throws after timeoutMs): for effects that land asynchronously.
export async function eventually (check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
