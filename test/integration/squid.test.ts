/// End to end through a real Squid 5 (Debian): curl → Squid → origin, with Squid sending REQMOD and
/// RESPMOD to a real ICAP server started as its own process. By default that server is a Scanwall
/// node (`scanwall start`, stopped with SIGTERM); SCANWALL_TEST_ICAP=cicap points the very same
/// suite at the c-icap + clamd peer instead, which proves the harness against a known-good server.
/// (The one place a test reads the environment: it selects the server under test, nothing else.)
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { eicar } from '../helpers/eicar.js'
import { startOrigin, sha256, type Origin, type OriginObject } from '../helpers/origin.js'
import { startSquid, type Squid } from '../helpers/squid.js'
import { curl } from '../helpers/curl.js'
import { tailFile } from '../helpers/daemon.js'
import { startScanwallNode, repoRoot, type ScanwallNode } from '../helpers/scanwall-node.js'
import { startCicapPeer, defaultPeersDir, type CicapPeer } from '../helpers/cicap-peer.js'
import { signatureNames } from '../helpers/signatures.js'

const target = process.env['SCANWALL_TEST_ICAP'] ?? 'scanwall'
const peersDir = process.env['SCANWALL_PEERS_DIR'] ?? defaultPeersDir

describe(`Squid → ICAP end to end (server under test: ${target})`, function () {
  this.timeout(180_000)
  let dir = ''
  let origin: Origin | undefined
  let squid: Squid | undefined
  let node: ScanwallNode | undefined
  let peer: CicapPeer | undefined
  let threatNames: string[] = []

  const clean5m = randomBytes(5 * 1024 * 1024)
  const text = Buffer.from('hello from the origin\n'.repeat(10), 'latin1')
  // Compressible padding, so deflate cannot carry EICAR as stored bytes: finding it needs the gzip layer.
  const eicarGz = gzipSync(Buffer.concat([Buffer.alloc(20_000, 'a'), eicar, Buffer.alloc(20_000, 'b')]))
  const cleanUpload = randomBytes(300 * 1024)
  const objects = new Map<string, OriginObject>([
    ['/clean-5m.bin', { body: clean5m }],
    ['/hello.txt', { body: text, headers: { 'Content-Type': 'text/plain' } }],
    ['/eicar.com', { body: eicar }],
    ['/eicar-gz.txt', { body: eicarGz, headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' } }],
  ])

  const get = async (path: string) => {
    assert.ok(squid !== undefined && origin !== undefined)
    return await curl({ proxy: squid.proxyUrl, url: origin.url(path), dir })
  }
  const post = async (path: string, body: Buffer) => {
    assert.ok(squid !== undefined && origin !== undefined)
    return await curl({ proxy: squid.proxyUrl, url: origin.url(path), dir, upload: body })
  }
  const diagnostics = (): string => [
    squid === undefined ? '' : `--- squid cache.log ---\n${tailFile(squid.cacheLog, 2000)}\n--- squid access.log ---\n${tailFile(squid.accessLog, 1000)}`,
    node === undefined ? '' : `--- scanwall ---\n${node.daemon.tail(3000)}`,
  ].join('\n')

  before(async () => {
    assert.ok(!eicarGz.includes(eicar), 'precondition: EICAR is not visible in the compressed bytes')
    dir = await mkdtemp(join(tmpdir(), 'scanwall-squid-test-'))
    origin = await startOrigin(objects)
    let icap: { host: string, port: number, service: string }
    if (target === 'cicap') {
      peer = await startCicapPeer({ peersDir, stateDir: join(dir, 'peer'), dbKind: 'test' })
      threatNames = signatureNames(join(peersDir, 'db', 'test'))
      icap = peer
    } else if (target === 'scanwall') {
      node = await startScanwallNode({ dir })
      threatNames = signatureNames(join(repoRoot, 'signatures'))
      icap = node
    } else {
      throw new Error(`SCANWALL_TEST_ICAP=${target}: expected scanwall or cicap`)
    }
    assert.ok(threatNames.length > 0, 'the signature DB names at least one threat')
    squid = await startSquid({ dir: await mkdtemp(join(tmpdir(), 'scanwall-squid-')), icapHost: icap.host, icapPort: icap.port, icapService: icap.service })
  })

  after(async () => {
    await squid?.daemon.stop(5000)
    await node?.daemon.stop(5000)
    await peer?.stop()
    await origin?.close()
    if (squid !== undefined) await rm(join(squid.cacheLog, '..'), { recursive: true, force: true })
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  afterEach(function () {
    if (this.currentTest?.state === 'failed') process.stderr.write(`${diagnostics()}\n`)
  })

  it('delivers a small text file unchanged', async () => {
    const res = await get('/hello.txt')
    assert.equal(res.status, 200)
    assert.equal(res.bodySha256, sha256(text))
  })

  it('delivers a clean 5 MiB file byte-identical (RESPMOD past the 64 KiB Squid pipe)', async () => {
    const res = await get('/clean-5m.bin')
    assert.equal(res.status, 200)
    assert.equal(res.bodyBytes, clean5m.length)
    assert.equal(res.bodySha256, sha256(clean5m))
  })

  const assertBlockPage = (res: Awaited<ReturnType<typeof get>>): void => {
    assert.equal(res.status, 403, `expected the block page, got ${res.status}: ${res.text.slice(0, 300)}`)
    const named = threatNames.find(name => res.text.includes(name))
    assert.ok(named !== undefined, `block page names one of ${threatNames.join(', ')}: ${res.text.slice(0, 600)}`)
    assert.ok(!res.text.includes(eicar.toString('latin1')), 'the block page does not carry the object')
  }

  it('answers EICAR with the HTTP 403 block page naming the threat', async () => {
    const before = origin?.hits.filter(h => h.path === '/eicar.com').length ?? 0
    const res = await get('/eicar.com')
    assertBlockPage(res)
    assert.equal(origin?.hits.filter(h => h.path === '/eicar.com').length, before + 1, 'the origin served it (so RESPMOD blocked it)')
  })

  it('answers gzip-compressed EICAR (Content-Encoding: gzip) with the block page', async () => {
    const res = await get('/eicar-gz.txt')
    assertBlockPage(res)
  })

  it('passes a clean 300 KiB upload (POST) to the origin byte-identical', async () => {
    const res = await post('/upload/clean.bin', cleanUpload)
    assert.equal(res.status, 200, res.text)
    const hit = origin?.hits.find(h => h.method === 'POST' && h.path === '/upload/clean.bin')
    assert.ok(hit !== undefined, 'the origin received the clean upload')
    assert.equal(hit.bodySha256, sha256(cleanUpload))
  })

  it('blocks an EICAR upload (POST, REQMOD): the origin never receives it', async () => {
    const res = await post('/upload/eicar.com', eicar)
    assertBlockPage(res)
    const hits = origin?.hits.filter(h => h.path === '/upload/eicar.com' || h.body.includes(eicar)) ?? []
    assert.deepEqual(hits.map(h => h.path), [], 'no request carrying EICAR reached the origin')
  })

  it('blocks a 1 MiB upload with EICAR inside (REQMOD body past preview and Squid\'s 64 KiB pipe)', async () => {
    const infected = Buffer.concat([randomBytes(512 * 1024), eicar, randomBytes(512 * 1024)])
    const res = await post('/upload/big-infected.bin', infected)
    assertBlockPage(res)
    const hits = origin?.hits.filter(h => h.path === '/upload/big-infected.bin') ?? []
    assert.equal(hits.length, 0, 'the origin never saw the infected upload')
  })

  it('stops the node on SIGTERM with exit status 0', async function () {
    if (node === undefined) this.skip() // only meaningful for our own server; the peer has its own scripts
    const exit = await node.daemon.stop(40_000)
    assert.deepEqual(exit, { code: 0, signal: null }, node.daemon.tail())
  })
})
