/// Trickle mode end to end (issue #12 item 2): a 200 MiB download from a local origin, fetched by
/// curl through Debian's Squid 5.7, answered by a Scanwall node whose profile trickles. The first
/// body bytes reach curl before the node has its verdict; a clean file arrives byte-identical; one
/// with EICAR in its last bytes is cut before them, logged and recorded `partially-blocked`; a retry
/// of that URL gets the block page at once, without reaching the origin. Squid runs without the
/// bug 5352 delay pool: the streamed echo alone keeps its reads going.
import assert from 'node:assert/strict'
import { spawn, execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { eicar } from '../helpers/eicar.js'
import { startSquid, type Squid } from '../helpers/squid.js'
import { curl } from '../helpers/curl.js'
import { tailFile } from '../helpers/daemon.js'
import { startScanwallNode, cliMain, type ScanwallNode } from '../helpers/scanwall-node.js'

const execFileAsync = promisify(execFile)
const total = 200 * 1024 * 1024
const holdBackBytes = 256 * 1024
/// One random MiB repeated: the origin streams it without holding 200 MiB, and the test can hash
/// any prefix. The infected object ends with EICAR.
const block = randomBytes(1024 * 1024)

function * content (infected: boolean): Generator<Buffer> {
  for (let at = 0; at < total; at += block.length) {
    const part = at + block.length <= total ? block : block.subarray(0, total - at)
    yield infected && at + part.length === total ? Buffer.concat([part.subarray(0, part.length - eicar.length), eicar]) : part
  }
}

function sha256Prefix (infected: boolean, length: number): string {
  const hash = createHash('sha256')
  let left = length
  for (const part of content(infected)) {
    if (left <= 0) break
    hash.update(part.subarray(0, Math.min(part.length, left)))
    left -= part.length
  }
  return hash.digest('hex')
}

interface Fetch { readonly startedAt: number, readonly code: number | null, readonly bytes: number, readonly sha256: string, readonly firstByteAt: number | undefined, readonly tail: Buffer }

/// curl writing the body to its stdout, read here as it arrives: when the first body byte came, how
/// many came, their hash, and the last bytes seen.
async function fetchStreaming (proxy: string, url: string): Promise<Fetch> {
  const startedAt = Date.now()
  const child = spawn('curl', ['-sS', '--proxy', proxy, '--max-time', '240', '-o', '-', url], { stdio: ['ignore', 'pipe', 'pipe'] })
  const hash = createHash('sha256')
  let bytes = 0
  let firstByteAt: number | undefined
  let tail = Buffer.alloc(0)
  child.stdout.on('data', (chunk: Buffer) => {
    firstByteAt ??= Date.now()
    bytes += chunk.length
    hash.update(chunk)
    tail = Buffer.concat([tail, chunk]).subarray(-256)
  })
  child.stderr.resume()
  const code = await new Promise<number | null>(resolve => child.on('close', c => resolve(c)))
  return { startedAt, code, bytes, sha256: hash.digest('hex'), firstByteAt, tail }
}

interface LogLine { readonly msg?: string, readonly time?: string, readonly method?: string, readonly url?: string, readonly outcome?: string, readonly threat?: string, readonly bytes?: number }

describe('trickle mode through Squid: a 200 MiB download streams while it is scanned', function () {
  this.timeout(600_000)
  let dir = ''
  let origin: Server | undefined
  let originUrl = ''
  const hits: string[] = []
  let squid: Squid | undefined
  let node: ScanwallNode | undefined

  const logLines = async (): Promise<LogLine[]> => {
    assert.ok(node !== undefined)
    const text = await readFile(node.daemon.logFile, 'utf8')
    return text.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as LogLine)
  }
  /// The node's transaction line for a URL. The log goes out in batches (src/log.ts: at most 200 ms
  /// late), and curl can exit before the node has ended the transaction, so the file is read again
  /// for a while before the line counts as missing.
  const transactionLine = async (url: string): Promise<LogLine | undefined> => {
    for (let tries = 0; ; tries++) {
      const line = (await logLines()).find(l => l.msg === 'icap' && l.method === 'RESPMOD' && l.url === url)
      if (line !== undefined || tries >= 50) return line
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }
  const loggedAt = (line: LogLine | undefined): number => Date.parse(line?.time ?? '')

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanwall-trickle-'))
    origin = createServer((req, res) => {
      const path = req.url?.replace(/^https?:\/\/[^/]+/, '') ?? '/'
      hits.push(path)
      if (path !== '/clean.bin' && path !== '/infected.bin') { res.writeHead(404).end(); return }
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': total })
      const parts = content(path === '/infected.bin')
      const pump = (): void => {
        for (let next = parts.next(); !next.done; next = parts.next()) {
          if (!res.write(next.value)) { res.once('drain', pump); return }
        }
        res.end()
      }
      pump()
    })
    await new Promise<void>(resolve => origin?.listen(0, '127.0.0.1', () => resolve()))
    originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`
    const env = { SCANWALL_SCAN_TRICKLE: 'true', SCANWALL_LOG_TRANSACTIONS: 'all', SCANWALL_SCAN_WORKERS: '1' }
    node = await startScanwallNode({ dir, env, args: ['--config', await trickleConfig(dir)] })
    squid = await startSquid({ dir: await mkdtemp(join(tmpdir(), 'scanwall-squid-')), icapHost: node.host, icapPort: node.port, icapService: node.service, delayPool: false })
  })

  async function trickleConfig (at: string): Promise<string> {
    const file = join(at, 'trickle.json')
    const { writeFile } = await import('node:fs/promises')
    await writeFile(file, JSON.stringify({ scan: { trickle: { holdBackBytes } } }))
    return file
  }

  after(async () => {
    await squid?.daemon.stop(5000)
    await node?.daemon.stop(10_000)
    await new Promise<void>(resolve => { origin?.closeAllConnections(); origin?.close(() => resolve()) ?? resolve() })
    if (squid !== undefined) await rm(join(squid.cacheLog, '..'), { recursive: true, force: true })
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return
    process.stderr.write(`--- squid cache.log ---\n${squid === undefined ? '' : tailFile(squid.cacheLog, 2000)}\n--- scanwall ---\n${node?.daemon.tail(3000) ?? ''}\n`)
  })

  it('streams a clean 200 MiB file: first bytes before the verdict, byte-identical at the end', async () => {
    assert.ok(squid !== undefined)
    const url = `${originUrl}/clean.bin`
    const got = await fetchStreaming(squid.proxyUrl, url)
    assert.equal(got.code, 0, 'curl completed the transfer')
    assert.equal(got.bytes, total)
    assert.equal(got.sha256, sha256Prefix(false, total), 'byte-identical')
    const line = await transactionLine(url)
    assert.ok(line !== undefined && got.firstByteAt !== undefined, 'the node logged the transaction once decided')
    assert.equal(line.outcome, 'answered')
    assert.ok(got.firstByteAt < loggedAt(line), `first body byte at ${new Date(got.firstByteAt).toISOString()}, verdict logged at ${line.time}`)
    process.stdout.write(`    clean: first body byte +${got.firstByteAt - got.startedAt} ms after curl started, verdict logged +${loggedAt(line) - got.startedAt} ms\n`)
  })

  it('cuts an infected 200 MiB file before its last bytes, logs and records partially-blocked', async () => {
    assert.ok(squid !== undefined)
    const url = `${originUrl}/infected.bin`
    const got = await fetchStreaming(squid.proxyUrl, url)
    assert.notEqual(got.code, 0, 'curl saw the transfer fail')
    assert.ok(got.firstByteAt !== undefined && got.bytes > 0, 'a prefix was streamed (trickle mode leaks it)')
    assert.ok(got.bytes <= total - holdBackBytes, `the client never got the held-back tail: ${got.bytes} of ${total}`)
    assert.equal(got.sha256, sha256Prefix(true, got.bytes), 'what arrived is the object\'s prefix')
    assert.ok(!got.tail.includes(eicar), 'EICAR (the last bytes) never reached the client')
    const line = await transactionLine(url)
    assert.equal(line?.outcome, 'partially-blocked', JSON.stringify(line))
    assert.match(line.threat ?? '', /Eicar/i)
    assert.ok(got.firstByteAt < loggedAt(line), `the prefix arrived (${new Date(got.firstByteAt).toISOString()}) before the verdict (${line.time})`)
    process.stdout.write(`    infected: first body byte +${got.firstByteAt - got.startedAt} ms, verdict +${loggedAt(line) - got.startedAt} ms, ${got.bytes} of ${total} bytes delivered, curl exit ${got.code}\n`)
    const events = await recordedEvents(e => e['url'] === url && e['reason'] === 'partially-blocked')
    const event = events.find(e => e['url'] === url && e['reason'] === 'partially-blocked')
    assert.ok(event !== undefined, `the decision database holds the cut: ${JSON.stringify(events)}`)
    assert.equal(event['action'], 'block')
  })

  it('refuses a retry of the cut URL at once with the block page, without reaching the origin', async () => {
    assert.ok(squid !== undefined)
    const url = `${originUrl}/infected.bin`
    const before = hits.filter(h => h === '/infected.bin').length
    const res = await curl({ proxy: squid.proxyUrl, url, dir })
    assert.equal(res.status, 403, res.text.slice(0, 300))
    assert.match(res.text, /Eicar/i, 'the block page names the threat')
    assert.equal(hits.filter(h => h === '/infected.bin').length, before, 'the origin was not asked again')
    const wanted = (e: Record<string, unknown>): boolean => e['url'] === url && e['reason'] === 'recently-blocked'
    assert.ok((await recordedEvents(wanted)).some(wanted), 'the refusal is recorded')
  })

  /// The decision database's events, once one matches `wanted` (the writer commits every 250 ms).
  async function recordedEvents (wanted: (e: Record<string, unknown>) => boolean): Promise<Array<Record<string, unknown>>> {
    for (let i = 0; ; i++) {
      const { stdout } = await execFileAsync(process.execPath, [cliMain, 'events', '--since', '1h', '--json', '--config', join(dir, 'trickle.json')], {
        env: { PATH: process.env['PATH'], HOME: process.env['HOME'], SCANWALL_STATS_PATH: join(dir, 'records.sqlite') },
        timeout: 30_000,
      })
      const events = stdout.trim().split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Record<string, unknown>)
      if (events.some(wanted) || i >= 20) return events
      await new Promise(resolve => setTimeout(resolve, 250))
    }
  }
})
