/// The clean-verdict cache through a real ScanService and worker pool (issue #11, item 4): a body
/// seen twice is hashed and stored, a third sighting is answered from the cache (counted in the
/// metrics, not timed); a reload empties it; infected objects are never stored; memory stays under
/// maxEntries/maxBytes; a service can be switched off; spooled bodies are cached like memory ones.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { ScanService } from '../../src/scan/service.js'
import { releaseSource } from '../../src/scan/body.js'
import { VerdictCache } from '../../src/scan/verdict-cache.js'
import { Metrics } from '../../src/metrics.js'
import { bundledSignaturesDir } from '../../config/schema.js'
import { eicar } from '../helpers/eicar.js'

describe('clean-verdict cache', function () {
  this.timeout(60_000)
  const spoolDir = mkdtempSync(join(tmpdir(), 'scanwall-cache-'))
  after(() => { rmSync(spoolDir, { recursive: true, force: true }) })
  let service: ScanService
  const metrics = new Metrics()
  const cache = { maxEntries: 4, maxBytes: 1 << 20, minBytes: 1024, disabledServices: ['uncached'] }

  before(async () => {
    service = await ScanService.start({ workers: 2, maxQueue: 8, workerMaxOldGenMb: 128, memoryLimit: 256 * 1024, spoolDir, timeoutMs: 10_000, signaturesDir: bundledSignaturesDir, inlineMaxBytes: 16 * 1024, cache }, metrics, pino({ level: 'silent' }))
  })
  after(async () => { await service.close() })

  async function scan (bytes: Uint8Array, service_ = 'test') {
    const sink = service.openSink()
    for (let at = 0; at < bytes.length; at += 64 * 1024) await sink.write(bytes.subarray(at, at + 64 * 1024))
    const source = await sink.finish()
    const { verdict } = await service.scan(source, { service: service_ }, new AbortController().signal)
    await releaseSource(source)
    return verdict
  }

  it('answers the third sighting of a clean body from the cache (memory and spooled bodies)', async () => {
    for (const size of [100_000, 600_000]) { // under and over memoryLimit
      const body = randomBytes(size)
      const hits = metrics.cacheHits
      assert.equal((await scan(body)).status, 'clean')
      assert.equal((await scan(body)).status, 'clean')
      assert.equal(metrics.cacheHits, hits, 'first and second sightings are scanned')
      const third = await scan(body)
      assert.equal(third.status, 'clean')
      assert.equal(metrics.cacheHits, hits + 1, `size ${size}: the third sighting is a hit`)
      assert.equal(third.stats.bytes, size, 'the cached verdict keeps the first scan\'s stats')
      // One byte changed outside the sampled head, middle and tail: the fingerprint is the same, so
      // the body is hashed at once, and the different hash is a miss: it is scanned.
      const changed = Buffer.from(body)
      changed[1000] = changed[1000]! ^ 1
      const misses = metrics.cacheMisses
      await scan(changed)
      assert.equal(metrics.cacheMisses, misses + 1)
      assert.equal(metrics.cacheHits, hits + 1, 'a changed body is not answered from the cache')
    }
  })

  it('hashes a spooled body while it arrives once its head was seen, and answers from that hash', async () => {
    const body = randomBytes(600_000) // over memoryLimit: spooled
    const arrive = async (bytes: Uint8Array): Promise<{ sha256: string | undefined, status: string }> => {
      const sink = service.openSink(bytes.length)
      for (let at = 0; at < bytes.length; at += 64 * 1024) await sink.write(bytes.subarray(at, at + 64 * 1024))
      const source = await sink.finish()
      assert.equal(source.kind, 'file')
      try {
        return { sha256: source.kind === 'file' ? source.sha256 : undefined, status: (await service.scan(source, { service: 'test' }, new AbortController().signal)).verdict.status }
      } finally {
        await releaseSource(source)
      }
    }
    const hits = metrics.cacheHits
    const whole = createHash('sha256').update(body).digest('base64')
    const sightings = [await arrive(body), await arrive(body), await arrive(body)]
    assert.deepEqual(sightings.map(s => s.status), ['clean', 'clean', 'clean'])
    assert.equal(sightings[0]?.sha256, undefined, 'a head seen for the first time stops the hash after 16 KiB')
    assert.equal(sightings[1]?.sha256, whole, 'the second sighting is hashed whole while it spools')
    assert.equal(sightings[2]?.sha256, whole)
    assert.equal(metrics.cacheHits, hits + 1, 'the third sighting is answered from the cache')
    // The same head and size with other bytes after it: hashed (its head was seen), a miss, scanned.
    const other = Buffer.concat([body.subarray(0, 100_000), randomBytes(500_000)])
    const misses = metrics.cacheMisses
    const next = await arrive(other)
    assert.equal(next.sha256, createHash('sha256').update(other).digest('base64'))
    assert.equal(metrics.cacheMisses, misses + 1)
    assert.equal(metrics.cacheHits, hits + 1, 'another body with the same head is never answered from the cache')
  })

  it('never stores an infected verdict', async () => {
    const body = Buffer.concat([randomBytes(50_000), eicar, randomBytes(50_000)])
    const hits = metrics.cacheHits
    for (let i = 0; i < 4; i++) assert.equal((await scan(body)).status, 'infected')
    assert.equal(metrics.cacheHits, hits)
    assert.ok(metrics.cacheMisses > 0, 'the later sightings were looked up and missed')
  })

  it('is off for a service in disabledServices', async () => {
    const body = randomBytes(50_000)
    const hits = metrics.cacheHits
    for (let i = 0; i < 4; i++) await scan(body, 'uncached')
    assert.equal(metrics.cacheHits, hits)
  })

  it('a signature reload empties it', async () => {
    const body = randomBytes(50_000)
    for (let i = 0; i < 3; i++) await scan(body)
    const hits = metrics.cacheHits
    assert.equal(hits > 0, true)
    await service.reload()
    assert.equal(service.cacheStats?.entries, 0)
    await scan(body)
    await scan(body)
    assert.equal(metrics.cacheHits, hits, 'after the reload the body is a first sighting again')
    await scan(body)
    assert.equal(metrics.cacheHits, hits + 1)
  })

  it('stays within maxEntries through the service', async () => {
    for (let i = 0; i < 8; i++) {
      const body = randomBytes(20_000)
      await scan(body)
      await scan(body)
    }
    const stats = service.cacheStats
    assert.ok(stats !== undefined && stats.entries <= cache.maxEntries && stats.stores >= 8, JSON.stringify(stats))
  })
})

describe('VerdictCache bounds', () => {
  const clean = (bytes: number) => ({ status: 'clean' as const, findings: [], stats: { bytes, objects: 1, depth: 0, ms: 1 } })
  const memory = (bytes: Uint8Array) => ({ kind: 'memory' as const, bytes: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer, size: bytes.length })

  it('holds no more estimated bytes than maxBytes, least recently used out first', async () => {
    const cache = new VerdictCache({ maxEntries: 1000, maxBytes: 1000, minBytes: 0 })
    const bodies = Array.from({ length: 20 }, () => randomBytes(64))
    for (const b of bodies) {
      await cache.lookup(memory(b))
      const second = await cache.lookup(memory(b))
      second.store?.(clean(64))
    }
    assert.ok(cache.bytes <= 1000, `bytes ${cache.bytes}`)
    assert.ok(cache.entries > 0 && cache.entries < 20, `entries ${cache.entries}`)
    // The last body stored is still there; the first was evicted.
    assert.ok((await cache.lookup(memory(bodies[19]!))).verdict !== undefined)
    assert.equal((await cache.lookup(memory(bodies[0]!))).verdict, undefined)
  })

  it('stores only clean verdicts without findings', async () => {
    const cache = new VerdictCache({ maxEntries: 10, maxBytes: 1 << 20, minBytes: 0 })
    const b = randomBytes(64)
    await cache.lookup(memory(b))
    for (const verdict of [
      { status: 'broken' as const, findings: [{ name: 'Heuristics.Broken.Zip', kind: 'broken' as const, path: ['object'] }], stats: clean(64).stats },
      { status: 'limit' as const, findings: [{ name: 'Heuristics.Limits.Exceeded.MaxFiles', kind: 'limit' as const, path: ['object'] }], stats: clean(64).stats },
      { status: 'error' as const, findings: [], stats: clean(64).stats, error: { code: 'SCAN_TIMEOUT' as const, message: 'x' } },
    ]) (await cache.lookup(memory(b))).store?.(verdict)
    assert.equal(cache.entries, 0)
  })
})
