import assert from 'node:assert/strict'
import { gzipSync } from 'node:zlib'
import { randomBytes } from 'node:crypto'
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { ScanService } from '../../src/scan/service.js'
import { releaseSource } from '../../src/scan/body.js'
import { Metrics } from '../../src/metrics.js'
import { bundledSignaturesDir } from '../../config/schema.js'
import { eicar } from '../helpers/eicar.js'
import { oversizeFinding } from '../../src/scan/input.js'

describe('ScanService with the worker pool', function () {
  this.timeout(30_000)
  const spoolDir = mkdtempSync(join(tmpdir(), 'scanwall-spool-'))
  after(() => { rmSync(spoolDir, { recursive: true, force: true }) })
  let service: ScanService
  const metrics = new Metrics()

  before(async () => {
    service = await ScanService.start({ workers: 2, maxQueue: 8, workerMaxOldGenMb: 128, memoryLimit: 64 * 1024, spoolDir, timeoutMs: 10_000, signaturesDir: bundledSignaturesDir }, metrics, pino({ level: 'silent' }))
  })
  after(async () => { await service.close() })

  async function scanBytes (bytes: Uint8Array, keepBody = false) {
    const sink = service.openSink()
    for (let at = 0; at < bytes.length; at += 7000) await sink.write(bytes.subarray(at, at + 7000))
    const source = await sink.finish()
    const outcome = await service.scan(source, { service: 'test' }, new AbortController().signal, { keepBody })
    return { source, outcome }
  }

  it('finds EICAR by hash and by body signature, and reports it as infected', async () => {
    const { outcome } = await scanBytes(eicar)
    assert.equal(outcome.verdict.status, 'infected')
    assert.equal(outcome.verdict.findings[0]?.name, 'Eicar-Test-Signature')
  })

  it('finds EICAR embedded in a larger object and inside gzip', async () => {
    const padded = Buffer.concat([randomBytes(10_000), eicar, randomBytes(10_000)])
    assert.equal((await scanBytes(padded)).outcome.verdict.status, 'infected')
    // Compressible padding: over random bytes deflate emits stored blocks that would carry EICAR verbatim.
    const gz = await scanBytes(gzipSync(Buffer.concat([Buffer.alloc(50_000, 'a'), eicar, Buffer.alloc(50_000, 'b')])))
    assert.equal(gz.outcome.verdict.status, 'infected')
    assert.deepEqual(gz.outcome.verdict.findings[0]?.path, ['object', 'gzip-content'])
  })

  it('passes clean data', async () => {
    const { outcome } = await scanBytes(randomBytes(100_000))
    assert.equal(outcome.verdict.status, 'clean')
  })

  it('transfers memory bodies to the worker without a copy, and can get them back', async () => {
    const bytes = randomBytes(20_000)
    const { source, outcome } = await scanBytes(bytes, true)
    assert.equal(source.kind, 'memory')
    if (source.kind === 'memory') assert.equal(source.bytes.byteLength, 0, 'the sink\'s buffer was moved, not cloned')
    const back = outcome.body
    assert.ok(back?.kind === 'memory')
    assert.ok(Buffer.from(back.bytes, 0, back.size).equals(bytes))
  })

  it('spools bodies past the memory limit and finds a signature straddling a chunk boundary', async () => {
    const bytes = Buffer.concat([randomBytes(1024 * 1024 - 30), eicar, randomBytes(5000)])
    const { source, outcome } = await scanBytes(bytes, true)
    assert.equal(source.kind, 'file')
    assert.equal(outcome.verdict.status, 'infected')
    if (source.kind === 'file') {
      assert.equal((await stat(source.path)).size, bytes.length)
      await releaseSource(source)
      await assert.rejects(stat(source.path))
    }
  })

  it('keeps its version when reloaded with the same signatures, and changes it when the set changes', async () => {
    const before = service.dbVersion
    await service.reload(bundledSignaturesDir)
    assert.equal(service.dbVersion, before, 'same files, same version')
    const changed = mkdtempSync(join(tmpdir(), 'scanwall-sigs-'))
    try {
      for (const file of readdirSync(bundledSignaturesDir)) copyFileSync(join(bundledSignaturesDir, file), join(changed, file))
      writeFileSync(join(changed, 'extra.ndb'), 'Version.Extra:0:*:0123456789abcdef0123\n')
      await service.reload(changed)
      assert.notEqual(service.dbVersion, before, 'one more signature, another version')
      assert.equal((await scanBytes(eicar)).outcome.verdict.status, 'infected', 'the old signatures are still in the new set')
    } finally {
      rmSync(changed, { recursive: true, force: true })
    }
  })

  it('answers a body over the object limit with a limit verdict, unscanned, and hands back what was kept', async () => {
    const kept = { kind: 'memory', bytes: new Uint8Array(eicar).buffer, size: eicar.length } as const
    const scannedBefore = metrics.objectsScanned
    const outcome = await service.scan({ kind: 'oversize', size: 500 << 20, kept }, { service: 'avscan' }, new AbortController().signal, { keepBody: true })
    assert.equal(outcome.verdict.status, 'limit', 'not scanned: EICAR in the kept bytes is not found')
    assert.deepEqual(outcome.verdict.findings, [oversizeFinding])
    assert.equal(outcome.body, kept)
    assert.equal(metrics.objectsScanned, scannedBefore)
    const dropped = await service.scan({ kind: 'oversize', size: 500 << 20, kept: undefined }, { service: 'avscan' }, new AbortController().signal)
    assert.equal(dropped.verdict.status, 'limit')
    assert.equal(dropped.body, undefined)
  })

  it('names the context\'s service in the infection event', async () => {
    const seen: Array<string | undefined> = []
    const listener = (e: { service?: string }): void => { seen.push(e.service) }
    metrics.events.on('infection', listener)
    try {
      const sink = service.openSink()
      await sink.write(eicar)
      await service.scan(await sink.finish(), { service: 'srv_clamav', method: 'RESPMOD', client: '192.0.2.1', url: 'http://x/', headers: { 'content-type': 'text/plain' } }, new AbortController().signal)
    } finally { metrics.events.off('infection', listener) }
    assert.deepEqual(seen, ['srv_clamav'])
  })
})
