import assert from 'node:assert/strict'
import { gzipSync } from 'node:zlib'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { ScanService } from '../../src/scan/service.js'
import { Metrics } from '../../src/metrics.js'
import { bundledSignaturesDir } from '../../config/schema.js'
import { eicar } from '../helpers/eicar.js'

/// Small leaf objects are matched on the calling thread (Engine.scanLeaf in src/engine/engine.ts); containers and larger
/// objects still go to the pool, and both paths give the same verdicts.
describe('ScanService: small leaf objects matched without a worker', function () {
  this.timeout(30_000)
  const spoolDir = mkdtempSync(join(tmpdir(), 'scanwall-spool-'))
  after(() => { rmSync(spoolDir, { recursive: true, force: true }) })
  const base = { workers: 1, maxQueue: 8, workerMaxOldGenMb: 128, memoryLimit: 1 << 20, spoolDir, timeoutMs: 10_000, signaturesDir: bundledSignaturesDir }
  let inline: ScanService
  let pooled: ScanService

  before(async () => {
    inline = await ScanService.start({ ...base, inlineMaxBytes: 64 * 1024 }, new Metrics(), pino({ level: 'silent' }))
    pooled = await ScanService.start({ ...base, inlineMaxBytes: 0 }, new Metrics(), pino({ level: 'silent' }))
  })
  after(async () => { await inline.close(); await pooled.close() })

  async function scan (service: ScanService, bytes: Uint8Array, keepBody = false) {
    const sink = service.openSink(bytes.length)
    await sink.write(bytes)
    const before = service.inlineScans
    const outcome = await service.scan(await sink.finish(), { service: 'test' }, new AbortController().signal, { keepBody })
    return { outcome, inline: service.inlineScans - before }
  }

  const cases: Array<[string, () => Uint8Array, 'clean' | 'infected', boolean]> = [
    ['EICAR alone', () => eicar, 'infected', true],
    ['EICAR inside 4 KiB of random bytes', () => Buffer.concat([randomBytes(2000), eicar, randomBytes(2000)]), 'infected', true],
    ['4 KiB of random bytes', () => randomBytes(4096), 'clean', true],
    ['EICAR in a gzip (a container: the pool unpacks it)', () => gzipSync(Buffer.concat([Buffer.alloc(3000, 'a'), eicar])), 'infected', false],
    ['EICAR in an HTML data: URI (HTML has a handler: the pool)', () => Buffer.from(`<html><body><a href="data:application/octet-stream;base64,${eicar.toString('base64')}">x</a></body></html>`), 'infected', false],
    ['EICAR near the end of 64 KiB of random bytes', () => Buffer.concat([randomBytes(65_536 - eicar.length - 100), eicar, randomBytes(100)]), 'infected', true],
    ['64 KiB of random bytes', () => randomBytes(65_536), 'clean', true],
    ['EICAR past 64 KiB of random bytes (over the inline limit)', () => Buffer.concat([randomBytes(65_537), eicar]), 'infected', false],
    ['EICAR in 40 KiB with ISO 9660\'s signature at 0x8001 (an image: the pool walks it)', () => {
      const bytes = Buffer.concat([randomBytes(40_000), eicar])
      bytes.write('CD001', 0x8001, 'latin1')
      return bytes
    }, 'infected', false],
  ]
  for (const [what, make, status, expectInline] of cases) {
    it(`${what}: ${status}, ${expectInline ? 'on the calling thread' : 'in the pool'}, and the pool alone agrees`, async () => {
      const bytes = make()
      const fast = await scan(inline, bytes)
      assert.equal(fast.inline, expectInline ? 1 : 0)
      assert.equal(fast.outcome.verdict.status, status)
      const slow = await scan(pooled, bytes)
      assert.equal(slow.inline, 0)
      assert.deepEqual(fast.outcome.verdict.findings, slow.outcome.verdict.findings)
    })
  }

  it('gives a kept body back untouched', async () => {
    const bytes = randomBytes(3000)
    const { outcome, inline: count } = await scan(inline, bytes, true)
    assert.equal(count, 1)
    assert.equal(outcome.body?.kind, 'memory')
    if (outcome.body?.kind === 'memory') assert.deepEqual(Buffer.from(outcome.body.bytes, 0, outcome.body.size), bytes)
  })
})
