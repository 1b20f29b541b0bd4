import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { ScanService } from '../../src/scan/service.js'
import { Metrics } from '../../src/metrics.js'
import { bundledSignaturesDir } from '../../config/schema.js'

describe('ScanService under overload and time limits', function () {
  this.timeout(60_000)
  const spoolDir = mkdtempSync(join(tmpdir(), 'scanwall-spool-'))
  after(() => { rmSync(spoolDir, { recursive: true, force: true }) })
  const log = pino({ level: 'silent' })

  async function body (service: ScanService, bytes: Uint8Array) {
    const sink = service.openSink(bytes.length)
    await sink.write(bytes)
    return await sink.finish()
  }

  it('answers at once with SCAN_QUEUE_FULL past maxQueue, never by queueing without bound', async () => {
    const metrics = new Metrics()
    const service = await ScanService.start({ workers: 1, maxQueue: 2, workerMaxOldGenMb: 128, memoryLimit: 64 << 20, spoolDir, timeoutMs: 30_000, signaturesDir: bundledSignaturesDir }, metrics, log)
    try {
      const data = randomBytes(8 << 20)
      const sources = await Promise.all(Array.from({ length: 12 }, async () => await body(service, data)))
      const outcomes = await Promise.all(sources.map(async s => await service.scan(s, { service: 'test' }, new AbortController().signal)))
      const full = outcomes.filter(o => o.verdict.error?.code === 'SCAN_QUEUE_FULL').length
      const clean = outcomes.filter(o => o.verdict.status === 'clean').length
      assert.ok(full > 0, 'some scans were refused')
      assert.ok(clean > 0, 'the admitted scans completed')
      assert.equal(full + clean, 12)
      assert.equal(metrics.overloads, full)
      // The pool is still healthy afterwards.
      assert.equal((await service.scan(await body(service, data), { service: 'test' }, new AbortController().signal)).verdict.status, 'clean')
    } finally {
      await service.close()
    }
  })

  it('turns an exhausted time budget into a timeout verdict and keeps the worker', async () => {
    const metrics = new Metrics()
    const service = await ScanService.start({ workers: 1, maxQueue: 4, workerMaxOldGenMb: 128, memoryLimit: 1 << 20, spoolDir, timeoutMs: 1, signaturesDir: bundledSignaturesDir }, metrics, log)
    try {
      const outcome = await service.scan(await body(service, randomBytes(64 << 20)), { service: 'test' }, new AbortController().signal)
      assert.equal(outcome.verdict.status, 'timeout')
      assert.equal(metrics.timeouts, 1)
    } finally {
      await service.close()
    }
  })

  it('stops a scan whose client went away, cooperatively', async () => {
    const service = await ScanService.start({ workers: 1, maxQueue: 4, workerMaxOldGenMb: 128, memoryLimit: 1 << 20, spoolDir, timeoutMs: 60_000, signaturesDir: bundledSignaturesDir }, new Metrics(), log)
    try {
      const controller = new AbortController()
      const pending = service.scan(await body(service, randomBytes(128 << 20)), { service: 'test' }, controller.signal)
      setTimeout(() => controller.abort(), 20)
      const outcome = await pending
      assert.equal(outcome.verdict.status, 'aborted')
      // Same worker thread answers the next scan (no restart needed).
      assert.equal((await service.scan(await body(service, randomBytes(1000)), { service: 'test' }, new AbortController().signal)).verdict.status, 'clean')
    } finally {
      await service.close()
    }
  })
})
