import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { BodySink, recycleBody, sourceBytes, type BodySource } from '../../src/scan/body.js'
import { ScanService } from '../../src/scan/service.js'
import { Metrics } from '../../src/metrics.js'
import { bundledSignaturesDir } from '../../config/schema.js'
import { eicar } from '../helpers/eicar.js'

/// Sink buffers of the small classes are kept for the next sinks (src/scan/body.ts's shelf): a body
/// given back is detached, and a buffer used again never lets the bytes of an earlier body through.
describe('BodySink: buffers given back and used again', function () {
  this.timeout(30_000)
  const spoolDir = mkdtempSync(join(tmpdir(), 'scanwall-recycle-'))
  after(() => { rmSync(spoolDir, { recursive: true, force: true }) })

  async function body (bytes: Uint8Array, expected: number | undefined = bytes.length): Promise<BodySource> {
    const sink = new BodySink({ memoryLimit: 1 << 20, spoolDir, expectedSize: expected })
    for (let at = 0; at < bytes.length; at += 1500) await sink.write(bytes.subarray(at, at + 1500))
    return await sink.finish()
  }

  it('detaches a body given back, and the next sink of its class gets a buffer holding only its own bytes', async () => {
    const first = await body(Buffer.alloc(6000, 0x41))
    assert.equal(first.kind, 'memory')
    if (first.kind !== 'memory') return
    assert.equal(first.bytes.byteLength, 8192, 'a 6000-byte body sits in an 8 KiB class buffer')
    recycleBody(first)
    assert.equal(first.bytes.byteLength, 0, 'the given-back ArrayBuffer is detached')
    const next = randomBytes(5000)
    const second = await body(next)
    assert.equal(second.size, 5000)
    assert.deepEqual(Buffer.from(await sourceBytes(second)), next)
  })

  it('grows a body of unknown size through the classes and keeps every byte', async () => {
    const bytes = randomBytes(50_000)
    const source = await body(bytes, undefined)
    assert.equal(source.kind, 'memory')
    assert.deepEqual(Buffer.from(await sourceBytes(source)), bytes)
    recycleBody(source)
  })

  it('ScanService: an inline-matched body is consumed unless kept, and a reused buffer\'s old EICAR past the new size is not matched', async () => {
    const service = await ScanService.start({ workers: 1, maxQueue: 8, workerMaxOldGenMb: 128, memoryLimit: 1 << 20, spoolDir, timeoutMs: 10_000, signaturesDir: bundledSignaturesDir, inlineMaxBytes: 64 * 1024 }, new Metrics(), pino({ level: 'silent' }))
    try {
      const signal = new AbortController().signal
      // EICAR in bytes 7000..7068 of an 8 KiB-class body, then bodies of 6000 bytes reusing its buffer.
      for (let round = 0; round < 3; round++) {
        const infected = await body(Buffer.concat([Buffer.alloc(7000, 0x20), eicar]))
        const hit = await service.scan(infected, { service: 'test' }, signal)
        assert.equal(hit.verdict.status, 'infected')
        if (infected.kind === 'memory') assert.equal(infected.bytes.byteLength, 0, 'consumed by the scan')
        const clean = await body(Buffer.alloc(6000, 0x20))
        const outcome = await service.scan(clean, { service: 'test' }, signal)
        assert.equal(outcome.verdict.status, 'clean', `round ${round}: the stale EICAR past the body's size was not matched`)
      }
      const kept = randomBytes(3000)
      const source = await body(kept)
      const outcome = await service.scan(source, { service: 'test' }, signal, { keepBody: true })
      assert.ok(outcome.body !== undefined)
      assert.deepEqual(Buffer.from(await sourceBytes(outcome.body)), kept, 'a kept body is handed back intact')
    } finally {
      await service.close()
    }
  })
})
