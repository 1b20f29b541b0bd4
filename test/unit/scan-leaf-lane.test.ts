import assert from 'node:assert/strict'
import { gzipSync } from 'node:zlib'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { ScanService } from '../../src/scan/service.js'
import { sourceBytes } from '../../src/scan/body.js'
import { Metrics } from '../../src/metrics.js'
import { bundledSignaturesDir } from '../../config/schema.js'
import { eicar } from '../helpers/eicar.js'

/// scan.leafThread: small leaves matched on the leaf lane's thread (src/scan/leaf-lane.ts) give the
/// verdicts the calling thread gives, containers still reach the pool, kept bodies come back whole.
describe('ScanService: the leaf lane (scan.leafThread)', function () {
  this.timeout(60_000)
  const spoolDir = mkdtempSync(join(tmpdir(), 'scanwall-lane-'))
  after(() => { rmSync(spoolDir, { recursive: true, force: true }) })
  const base = { workers: 1, maxQueue: 64, workerMaxOldGenMb: 128, memoryLimit: 1 << 20, spoolDir, timeoutMs: 10_000, signaturesDir: bundledSignaturesDir, inlineMaxBytes: 64 * 1024 }
  let lane: ScanService
  let inline: ScanService
  before(async () => {
    lane = await ScanService.start({ ...base, leafThread: true }, new Metrics(), pino({ level: 'silent' }))
    inline = await ScanService.start(base, new Metrics(), pino({ level: 'silent' }))
    // The lane builds its engine after start(); until it says so the calling thread matches.
    const deadline = Date.now() + 30_000
    while (lane.laneScans === 0 && Date.now() < deadline) {
      await scan(lane, randomBytes(50_000))
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    assert.ok(lane.laneScans > 0, 'the lane took work within 30 s of start')
  })
  after(async () => { await lane.close(); await inline.close() })

  async function scan (service: ScanService, bytes: Uint8Array, keepBody = false) {
    const sink = service.openSink(bytes.length)
    await sink.write(bytes)
    return await service.scan(await sink.finish(), { service: 'test' }, new AbortController().signal, { keepBody })
  }

  const bodies: Array<[string, () => Uint8Array]> = [
    ['EICAR inside 50 KiB of random bytes', () => Buffer.concat([randomBytes(25_000), eicar, randomBytes(25_000)])],
    ['EICAR inside 4 KiB (below the lane\'s 48 KiB: inline)', () => Buffer.concat([randomBytes(2000), eicar, randomBytes(2000)])],
    ['64 KiB of random bytes', () => randomBytes(65_536)],
    ['EICAR near the end of 64 KiB', () => Buffer.concat([randomBytes(65_536 - eicar.length - 10), eicar, randomBytes(10)])],
    ['EICAR in a gzip (the lane hands it to the pool)', () => gzipSync(Buffer.concat([randomBytes(50_000), eicar]))],
  ]

  it('gives the calling thread\'s verdicts for 40 objects in flight at once, and answers some on the lane', async () => {
    const made = Array.from({ length: 40 }, (_, i) => (bodies[i % bodies.length] as [string, () => Uint8Array])[1]())
    const before = lane.laneScans
    const onLane = await Promise.all(made.map(async bytes => await scan(lane, bytes)))
    for (let i = 0; i < made.length; i++) {
      const bytes = made[i] as Uint8Array
      const expected = await scan(inline, bytes)
      assert.equal(onLane[i]?.verdict.status, expected.verdict.status, bodies[i % bodies.length]?.[0])
      assert.deepEqual(onLane[i]?.verdict.findings, expected.verdict.findings)
    }
    assert.ok(lane.laneScans > before, 'the lane matched some of them')
  })

  it('hands a kept body back whole from the lane', async () => {
    const bytes = randomBytes(50_000)
    const outcome = await scan(lane, bytes, true)
    assert.equal(outcome.verdict.status, 'clean')
    assert.ok(outcome.body !== undefined)
    assert.deepEqual(Buffer.from(await sourceBytes(outcome.body)), bytes)
  })
})
